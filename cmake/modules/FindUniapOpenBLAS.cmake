# FindUniapOpenBLAS.cmake - finds OpenBLAS with its cblas.h and defines the
# imported target uniap::openblas (named apart from OpenBLAS's own CMake
# config, whose targets differ between distributions). Used by uniap's own
# build (cmake/UniapDeps.cmake) and by its installed package config.
#   UniapOpenBLAS_FOUND, CBLAS_INCLUDE_DIR, OPENBLAS_LIBRARY
find_path(CBLAS_INCLUDE_DIR cblas.h PATH_SUFFIXES openblas x86_64-linux-gnu aarch64-linux-gnu)
find_library(OPENBLAS_LIBRARY NAMES openblas)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(UniapOpenBLAS REQUIRED_VARS OPENBLAS_LIBRARY CBLAS_INCLUDE_DIR
  REASON_FAILURE_MESSAGE "cblas.h and libopenblas are needed. On Debian: apt-get install libopenblas-dev")
if(UniapOpenBLAS_FOUND AND NOT TARGET uniap::openblas)
  add_library(uniap::openblas UNKNOWN IMPORTED)
  set_target_properties(uniap::openblas PROPERTIES
    IMPORTED_LOCATION ${OPENBLAS_LIBRARY}
    INTERFACE_INCLUDE_DIRECTORIES ${CBLAS_INCLUDE_DIR})
endif()
mark_as_advanced(CBLAS_INCLUDE_DIR OPENBLAS_LIBRARY)
