# Finds uniap's dependencies and exposes each as an imported target:
#   MPI::MPI_C, uniap::hdf5 (parallel), uniap::glpk, uniap::cjson,
#   uniap::openblas, and when CUDA is on: CUDA::cudart, CUDA::cublas,
#   uniap::nccl (UNIAP_HAVE_CUDA set).
find_package(MPI REQUIRED COMPONENTS C)

# The finders below (cmake/modules/Find*.cmake) are installed with uniap's
# package config, which finds the same dependencies again for a consumer.
list(APPEND CMAKE_MODULE_PATH ${CMAKE_CURRENT_LIST_DIR}/modules)

# --- parallel HDF5: uniap::hdf5 -------------------------------------------
find_package(UniapHDF5 REQUIRED)
find_program(H5DUMP_EXECUTABLE NAMES h5dump h5dump.openmpi)

# --- GLPK (ships no CMake or pkg-config file), cJSON, OpenBLAS (cblas) ------
find_package(GLPK REQUIRED)
find_package(CJSON REQUIRED)
find_package(UniapOpenBLAS REQUIRED)

# libm by name (-lm), so that exported link interfaces carry no host path.
find_library(MATH_LIBRARY_PATH m)
set(MATH_LIBRARY "")
if(MATH_LIBRARY_PATH)
  set(MATH_LIBRARY m)
endif()

# --- CUDA, cuBLAS, NCCL (optional) ----------------------------------------
set(UNIAP_HAVE_CUDA OFF)
if(UNIAP_WITH_CUDA)
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES "80;90")
    endif()
    enable_language(CUDA)
    find_package(CUDAToolkit REQUIRED)
    find_package(UniapNCCL)
    if(UniapNCCL_FOUND)
      set(UNIAP_HAVE_CUDA ON)
      message(STATUS "uniap: CUDA backend on (nvcc ${CMAKE_CUDA_COMPILER_VERSION}, archs ${CMAKE_CUDA_ARCHITECTURES})")
    else()
      message(WARNING "uniap: nvcc found but NCCL is missing; CUDA backend off")
    endif()
  else()
    message(STATUS "uniap: no nvcc; CUDA backend off")
  endif()
endif()

# --- testing helpers -------------------------------------------------------
# uniap_add_mpi_test(NAME <n> NP <ranks> COMMAND <exe> [args...])
function(uniap_add_mpi_test)
  cmake_parse_arguments(T "" "NAME;NP" "COMMAND" ${ARGN})
  add_test(NAME ${T_NAME}
    COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${T_NP}
            --oversubscribe --allow-run-as-root ${MPIEXEC_PREFLAGS}
            ${T_COMMAND} ${MPIEXEC_POSTFLAGS})
  # Open MPI leaks from plugins it has already unloaded, which no LSan
  # suppression can name: leak checking is off for MPI tests under sanitizers.
  set(_env "OMPI_MCA_rmaps_base_oversubscribe=1;OMPI_ALLOW_RUN_AS_ROOT=1;OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1;OMPI_MCA_btl_vader_single_copy_mechanism=none")
  if(UNIAP_SANITIZE)
    list(APPEND _env "ASAN_OPTIONS=detect_leaks=0")
  endif()
  set_tests_properties(${T_NAME} PROPERTIES
    ENVIRONMENT "${_env}"
    PROCESSORS ${T_NP} TIMEOUT 300)
  set_property(TEST ${T_NAME} APPEND PROPERTY LABELS mpi)
endfunction()

# uniap_label_tests(<label>... [MPI <test>...] [GPU <test>...]): ctest
# labels (ctest -L solver, ctest -LE slurm), called last in a tests/
# folder's CMakeLists.txt: every test of the folder gets the labels (its
# component, and features such as slurm or fuzz); the tests named after MPI
# (those that start mpirun themselves) get "mpi" too, as every
# uniap_add_mpi_test does; those after GPU, "gpu" (skipped without one).
function(uniap_label_tests)
  cmake_parse_arguments(L "" "" "MPI;GPU" ${ARGN})
  get_property(_tests DIRECTORY PROPERTY TESTS)
  if(_tests)
    set_property(TEST ${_tests} APPEND PROPERTY LABELS ${L_UNPARSED_ARGUMENTS})
  endif()
  foreach(_kind IN ITEMS MPI GPU)
    string(TOLOWER ${_kind} _label)
    foreach(_t IN LISTS L_${_kind})
      if(TEST ${_t})
        set_property(TEST ${_t} APPEND PROPERTY LABELS ${_label})
      endif()
    endforeach()
  endforeach()
endfunction()
