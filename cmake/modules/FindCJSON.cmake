# FindCJSON.cmake - finds cJSON (<cjson/cJSON.h>, libcjson) and defines the
# imported target uniap::cjson. Used by uniap's own build
# (cmake/UniapDeps.cmake) and by its installed package config.
#   CJSON_FOUND, CJSON_INCLUDE_DIR, CJSON_LIBRARY
find_path(CJSON_INCLUDE_DIR cjson/cJSON.h)
find_library(CJSON_LIBRARY NAMES cjson)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(CJSON REQUIRED_VARS CJSON_LIBRARY CJSON_INCLUDE_DIR
  REASON_FAILURE_MESSAGE "cjson/cJSON.h and libcjson are needed. On Debian: apt-get install libcjson-dev")
if(CJSON_FOUND AND NOT TARGET uniap::cjson)
  add_library(uniap::cjson UNKNOWN IMPORTED)
  set_target_properties(uniap::cjson PROPERTIES
    IMPORTED_LOCATION ${CJSON_LIBRARY}
    INTERFACE_INCLUDE_DIRECTORIES ${CJSON_INCLUDE_DIR})
endif()
mark_as_advanced(CJSON_INCLUDE_DIR CJSON_LIBRARY)
