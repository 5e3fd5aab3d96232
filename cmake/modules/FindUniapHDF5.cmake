# FindUniapHDF5.cmake - finds a parallel (MPI) build of HDF5's C library and
# defines the imported target uniap::hdf5 (HDF5 with MPI::MPI_C). Used by
# uniap's own build (cmake/UniapDeps.cmake) and by its installed package
# config. Needs MPI found first (find_package(MPI COMPONENTS C)).
#   UniapHDF5_FOUND, and FindHDF5's variables (HDF5_C_LIBRARIES, ...)
set(HDF5_PREFER_PARALLEL TRUE)
find_package(HDF5 QUIET COMPONENTS C)
set(_uniap_hdf5_why "a parallel HDF5 (C) is needed. On Debian: apt-get install libhdf5-openmpi-dev")
if(HDF5_FOUND AND NOT HDF5_IS_PARALLEL)
  set(_uniap_hdf5_why "the HDF5 found at ${HDF5_INCLUDE_DIRS} is serial; a parallel (MPI) build is needed. On Debian: apt-get install libhdf5-openmpi-dev")
  set(_uniap_hdf5_parallel "")
elseif(HDF5_FOUND)
  set(_uniap_hdf5_parallel TRUE)
endif()
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(UniapHDF5 REQUIRED_VARS HDF5_C_LIBRARIES _uniap_hdf5_parallel
  VERSION_VAR HDF5_VERSION REASON_FAILURE_MESSAGE "${_uniap_hdf5_why}")
if(UniapHDF5_FOUND AND NOT TARGET uniap::hdf5)
  add_library(uniap::hdf5 INTERFACE IMPORTED)
  target_include_directories(uniap::hdf5 INTERFACE ${HDF5_INCLUDE_DIRS})
  target_link_libraries(uniap::hdf5 INTERFACE ${HDF5_C_LIBRARIES} MPI::MPI_C)
  target_compile_definitions(uniap::hdf5 INTERFACE ${HDF5_DEFINITIONS})
endif()
