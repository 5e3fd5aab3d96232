# FindUniapNCCL.cmake - finds NCCL (nccl.h, libnccl; beside the CUDA
# toolkit when CUDAToolkit was found) and defines the imported target
# uniap::nccl. Used by uniap's own build (cmake/UniapDeps.cmake) and by its
# installed package config when the profiler's CUDA backend was built.
#   UniapNCCL_FOUND, NCCL_INCLUDE_DIR, NCCL_LIBRARY
find_path(NCCL_INCLUDE_DIR nccl.h HINTS ${CUDAToolkit_INCLUDE_DIRS})
find_library(NCCL_LIBRARY nccl HINTS ${CUDAToolkit_LIBRARY_DIR})
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(UniapNCCL REQUIRED_VARS NCCL_LIBRARY NCCL_INCLUDE_DIR)
if(UniapNCCL_FOUND AND NOT TARGET uniap::nccl)
  add_library(uniap::nccl UNKNOWN IMPORTED)
  set_target_properties(uniap::nccl PROPERTIES
    IMPORTED_LOCATION ${NCCL_LIBRARY}
    INTERFACE_INCLUDE_DIRECTORIES ${NCCL_INCLUDE_DIR})
endif()
mark_as_advanced(NCCL_INCLUDE_DIR NCCL_LIBRARY)
