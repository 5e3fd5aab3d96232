# Finds uniap's dependencies and exposes each as an imported target:
#   MPI::MPI_C, uniap::hdf5 (parallel), uniap::glpk, uniap::cjson,
#   uniap::openblas, and when CUDA is on: CUDA::cudart, CUDA::cublas,
#   uniap::nccl (UNIAP_HAVE_CUDA set).
find_package(MPI REQUIRED COMPONENTS C)

# --- parallel HDF5 -------------------------------------------------------
set(HDF5_PREFER_PARALLEL TRUE)
find_package(HDF5 REQUIRED COMPONENTS C)
if(NOT HDF5_IS_PARALLEL)
  message(FATAL_ERROR
    "uniap needs a parallel (MPI) build of HDF5, but the HDF5 found at "
    "${HDF5_INCLUDE_DIRS} is serial. On Debian: apt-get install libhdf5-openmpi-dev "
    "(scripts/install-deps.sh does this).")
endif()
add_library(uniap::hdf5 INTERFACE IMPORTED)
target_include_directories(uniap::hdf5 INTERFACE ${HDF5_INCLUDE_DIRS})
target_link_libraries(uniap::hdf5 INTERFACE ${HDF5_C_LIBRARIES} MPI::MPI_C)
target_compile_definitions(uniap::hdf5 INTERFACE ${HDF5_DEFINITIONS})
find_program(H5DUMP_EXECUTABLE NAMES h5dump h5dump.openmpi)

# --- GLPK: ships no CMake or pkg-config file ------------------------------
find_path(GLPK_INCLUDE_DIR glpk.h)
find_library(GLPK_LIBRARY NAMES glpk)
if(NOT GLPK_INCLUDE_DIR OR NOT GLPK_LIBRARY)
  message(FATAL_ERROR "GLPK not found (glpk.h, libglpk). On Debian: apt-get install libglpk-dev")
endif()
add_library(uniap::glpk UNKNOWN IMPORTED)
set_target_properties(uniap::glpk PROPERTIES
  IMPORTED_LOCATION ${GLPK_LIBRARY}
  INTERFACE_INCLUDE_DIRECTORIES ${GLPK_INCLUDE_DIR})

# --- cJSON ---------------------------------------------------------------
find_path(CJSON_INCLUDE_DIR cjson/cJSON.h)
find_library(CJSON_LIBRARY NAMES cjson)
if(NOT CJSON_INCLUDE_DIR OR NOT CJSON_LIBRARY)
  message(FATAL_ERROR "cJSON not found. On Debian: apt-get install libcjson-dev")
endif()
add_library(uniap::cjson UNKNOWN IMPORTED)
set_target_properties(uniap::cjson PROPERTIES
  IMPORTED_LOCATION ${CJSON_LIBRARY}
  INTERFACE_INCLUDE_DIRECTORIES ${CJSON_INCLUDE_DIR})

# --- OpenBLAS (cblas) ------------------------------------------------------
find_path(CBLAS_INCLUDE_DIR cblas.h PATH_SUFFIXES openblas x86_64-linux-gnu aarch64-linux-gnu)
find_library(OPENBLAS_LIBRARY NAMES openblas)
if(NOT CBLAS_INCLUDE_DIR OR NOT OPENBLAS_LIBRARY)
  message(FATAL_ERROR "OpenBLAS not found. On Debian: apt-get install libopenblas-dev")
endif()
add_library(uniap::openblas UNKNOWN IMPORTED)
set_target_properties(uniap::openblas PROPERTIES
  IMPORTED_LOCATION ${OPENBLAS_LIBRARY}
  INTERFACE_INCLUDE_DIRECTORIES ${CBLAS_INCLUDE_DIR})

find_library(MATH_LIBRARY m)

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
    find_path(NCCL_INCLUDE_DIR nccl.h HINTS ${CUDAToolkit_INCLUDE_DIRS})
    find_library(NCCL_LIBRARY nccl HINTS ${CUDAToolkit_LIBRARY_DIR})
    if(NCCL_INCLUDE_DIR AND NCCL_LIBRARY)
      add_library(uniap::nccl UNKNOWN IMPORTED)
      set_target_properties(uniap::nccl PROPERTIES
        IMPORTED_LOCATION ${NCCL_LIBRARY}
        INTERFACE_INCLUDE_DIRECTORIES ${NCCL_INCLUDE_DIR})
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
endfunction()
