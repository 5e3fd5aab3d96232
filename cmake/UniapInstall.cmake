# UniapInstall.cmake - what `cmake --install` puts where (GNUInstallDirs
# paths under the prefix), included by the top-level CMakeLists.txt after
# every component:
#   bin/uniap
#   lib/libuniap_{io,costmodel,solver,profiler,prof_kernels[,prof_cuda]}.a
#   include/uniap/  uniap_io.h uniap_io_mpi.h uniap_costmodel.h uniap_solver.h
#                   uniap_profiler.h uniap_version.h (public headers only)
#   lib/cmake/uniap/  uniapConfig.cmake (find_package(uniap): imported
#                   targets uniap::io, uniap::costmodel, uniap::solver,
#                   uniap::profiler), its version file, the targets, and
#                   modules/ (the dependency finders, used again there)
#   lib/pkgconfig/uniap.pc
#   share/man/man1/uniap.1, uniap-<command>.1 (generated at build time)
#   share/bash-completion/completions/uniap (generated at build time)
#   share/uniap/jobs/ (jobs/CMakeLists.txt)
include(CMakePackageConfigHelpers)

set(UNIAP_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/uniap)
set(UNIAP_INSTALL_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR}/uniap)
# The component libraries and the static libraries they link privately.
set(UNIAP_INSTALL_LIBS uniap_io uniap_costmodel uniap_solver uniap_profiler uniap_prof_kernels)
if(TARGET uniap_prof_cuda)
  list(APPEND UNIAP_INSTALL_LIBS uniap_prof_cuda)
endif()

install(TARGETS ${UNIAP_INSTALL_LIBS} EXPORT uniapTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  PUBLIC_HEADER DESTINATION ${UNIAP_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_BINARY_DIR}/generated/uniap_version.h
  DESTINATION ${UNIAP_INSTALL_INCLUDEDIR})

# --- CMake package: find_package(uniap [COMPONENTS io costmodel solver profiler])
install(EXPORT uniapTargets NAMESPACE uniap:: FILE uniapTargets.cmake
  DESTINATION ${UNIAP_INSTALL_CMAKEDIR})
set(UNIAP_CONFIG_CUDA_NOTE "")
if(UNIAP_PROFILER_CUDA)
  set(UNIAP_CONFIG_CUDA_NOTE ",\n# and for the profiler's CUDA backend the CUDA toolkit (cudart, cuBLAS) and NCCL")
endif()
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/uniapConfig.cmake.in
  ${PROJECT_BINARY_DIR}/uniapConfig.cmake INSTALL_DESTINATION ${UNIAP_INSTALL_CMAKEDIR})
# 0.x: a minor version may change the API
write_basic_package_version_file(${PROJECT_BINARY_DIR}/uniapConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/uniapConfig.cmake ${PROJECT_BINARY_DIR}/uniapConfigVersion.cmake
  DESTINATION ${UNIAP_INSTALL_CMAKEDIR})
install(FILES ${PROJECT_SOURCE_DIR}/cmake/modules/FindGLPK.cmake
  ${PROJECT_SOURCE_DIR}/cmake/modules/FindCJSON.cmake
  ${PROJECT_SOURCE_DIR}/cmake/modules/FindUniapOpenBLAS.cmake
  ${PROJECT_SOURCE_DIR}/cmake/modules/FindUniapHDF5.cmake
  ${PROJECT_SOURCE_DIR}/cmake/modules/FindUniapNCCL.cmake
  DESTINATION ${UNIAP_INSTALL_CMAKEDIR}/modules)

# --- pkg-config: the same libraries, with the dependencies' flags as found
# here (static libraries: every dependency goes on the link line).
function(uniap__pc_libs out)
  set(_flags "")
  foreach(_l IN LISTS ARGN)
    if(_l MATCHES "^-" OR IS_ABSOLUTE "${_l}")
      list(APPEND _flags "${_l}")
    elseif(NOT _l STREQUAL "")
      list(APPEND _flags "-l${_l}")
    endif()
  endforeach()
  list(REMOVE_DUPLICATES _flags)
  string(JOIN " " _s ${_flags})
  set(${out} "${_s}" PARENT_SCOPE)
endfunction()
set(_pc_deps ${HDF5_C_LIBRARIES} ${GLPK_LIBRARY} ${CJSON_LIBRARY} ${OPENBLAS_LIBRARY})
set(_pc_libs -luniap_solver -luniap_costmodel -luniap_profiler -luniap_prof_kernels)
if(TARGET uniap_prof_cuda)
  list(APPEND _pc_libs -luniap_prof_cuda)
  list(APPEND _pc_deps ${NCCL_LIBRARY} ${CUDA_cublas_LIBRARY} ${CUDA_cudart_LIBRARY} stdc++)
endif()
list(APPEND _pc_libs -luniap_io)
uniap__pc_libs(UNIAP_PC_DEPS ${_pc_deps} ${MPI_C_LIBRARIES} ${MATH_LIBRARY})
string(JOIN " " UNIAP_PC_LIBS ${_pc_libs})
set(_pc_cflags "")
foreach(_d IN LISTS MPI_C_INCLUDE_DIRS)
  list(APPEND _pc_cflags "-I${_d}")
endforeach()
string(JOIN " " UNIAP_PC_CFLAGS ${_pc_cflags})
# The prefix relative to the .pc file, so that the prefix given to
# `cmake --install --prefix` (or a moved install) is the one used.
file(RELATIVE_PATH UNIAP_PC_PREFIX_REL /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
string(REGEX REPLACE "/$" "" UNIAP_PC_PREFIX_REL "${UNIAP_PC_PREFIX_REL}")
file(RELATIVE_PATH UNIAP_PC_LIBDIR_REL /prefix /prefix/${CMAKE_INSTALL_LIBDIR})
file(RELATIVE_PATH UNIAP_PC_INCLUDEDIR_REL /prefix /prefix/${UNIAP_INSTALL_INCLUDEDIR})
configure_file(${PROJECT_SOURCE_DIR}/cmake/uniap.pc.in ${PROJECT_BINARY_DIR}/uniap.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/uniap.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# --- man pages and bash completion, generated from the built `uniap`
# (each command's option table: --man, --complete).
# (not when cross-compiling: the executable cannot run here)
option(UNIAP_DOCS "Generate the man pages and the bash completion at build time" ON)
if(UNIAP_DOCS AND CMAKE_CROSSCOMPILING)
  message(STATUS "uniap: cross-compiling, no man pages or bash completion (UNIAP_DOCS off)")
  set(UNIAP_DOCS OFF CACHE BOOL "Generate the man pages and the bash completion at build time" FORCE)
endif()
if(UNIAP_DOCS)
  include(UniapDocs)
endif()
