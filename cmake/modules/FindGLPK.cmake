# FindGLPK.cmake - finds GLPK (ships no CMake or pkg-config file) and
# defines the imported target uniap::glpk. Used by uniap's own build
# (cmake/UniapDeps.cmake) and by its installed package config.
#   GLPK_FOUND, GLPK_INCLUDE_DIR, GLPK_LIBRARY
find_path(GLPK_INCLUDE_DIR glpk.h)
find_library(GLPK_LIBRARY NAMES glpk)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(GLPK REQUIRED_VARS GLPK_LIBRARY GLPK_INCLUDE_DIR
  REASON_FAILURE_MESSAGE "glpk.h and libglpk are needed. On Debian: apt-get install libglpk-dev")
if(GLPK_FOUND AND NOT TARGET uniap::glpk)
  add_library(uniap::glpk UNKNOWN IMPORTED)
  set_target_properties(uniap::glpk PROPERTIES
    IMPORTED_LOCATION ${GLPK_LIBRARY}
    INTERFACE_INCLUDE_DIRECTORIES ${GLPK_INCLUDE_DIR})
endif()
mark_as_advanced(GLPK_INCLUDE_DIR GLPK_LIBRARY)
