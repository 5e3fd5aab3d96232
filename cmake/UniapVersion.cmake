# UniapVersion.cmake - writes uniap_version.h with the version and the git
# revision of the source tree, run as a script (cmake -P) by the
# uniap_version target on every build, and once at configure time.
#   cmake -DIN=<uniap_version.h.in> -DOUT=<uniap_version.h> -DSRC=<source dir>
#         -DVERSION=<project version> -DFALLBACK=<revision outside git> -P UniapVersion.cmake
# The revision is `git describe --always --abbrev=12`, with "-dirty" when
# tracked files differ from HEAD (what `git describe --dirty` says, but
# read-only: describe --dirty rewrites the index's stat cache, so the
# build asks `git status` with optional locks off instead). When SRC is not
# the top of a git checkout (a release tarball, or no git), FALLBACK.
# OUT is written only when its content changes, so an unchanged revision
# rebuilds nothing.
cmake_minimum_required(VERSION 3.20)
foreach(_v IN ITEMS IN OUT SRC VERSION FALLBACK)
  if(NOT DEFINED ${_v})
    message(FATAL_ERROR "UniapVersion.cmake: -D${_v}=... is required")
  endif()
endforeach()

set(UNIAP_GIT_REVISION "${FALLBACK}")
find_program(UNIAP_GIT_EXECUTABLE git)
if(UNIAP_GIT_EXECUTABLE)
  execute_process(COMMAND ${UNIAP_GIT_EXECUTABLE} rev-parse --show-toplevel
    WORKING_DIRECTORY ${SRC} OUTPUT_VARIABLE _top OUTPUT_STRIP_TRAILING_WHITESPACE
    ERROR_QUIET RESULT_VARIABLE _rc)
  if(_rc EQUAL 0)
    get_filename_component(_top "${_top}" REALPATH)
    get_filename_component(_src "${SRC}" REALPATH)
  endif()
  # Only the checkout of this very tree: a tarball unpacked inside some other
  # repository must not take that repository's revision.
  if(_rc EQUAL 0 AND _top STREQUAL _src)
    execute_process(COMMAND ${UNIAP_GIT_EXECUTABLE} describe --always --abbrev=12
      WORKING_DIRECTORY ${SRC} OUTPUT_VARIABLE _describe OUTPUT_STRIP_TRAILING_WHITESPACE
      ERROR_QUIET RESULT_VARIABLE _rc)
    if(_rc EQUAL 0 AND NOT _describe STREQUAL "")
      set(UNIAP_GIT_REVISION "${_describe}")
      execute_process(COMMAND ${CMAKE_COMMAND} -E env GIT_OPTIONAL_LOCKS=0
        ${UNIAP_GIT_EXECUTABLE} status --porcelain --untracked-files=no
        WORKING_DIRECTORY ${SRC} OUTPUT_VARIABLE _changes OUTPUT_STRIP_TRAILING_WHITESPACE
        ERROR_QUIET RESULT_VARIABLE _rc)
      if(_rc EQUAL 0 AND NOT _changes STREQUAL "")
        string(APPEND UNIAP_GIT_REVISION "-dirty")
      endif()
    endif()
  endif()
endif()

set(UNIAP_VERSION "${VERSION}")
configure_file(${IN} ${OUT} @ONLY) # leaves OUT untouched when unchanged
