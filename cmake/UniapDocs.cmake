# UniapDocs.cmake - the man pages and the bash completion, generated at
# build time by running the built `uniap` (cmake/UniapManPages.cmake,
# cmake/UniapCompletion.cmake), so that both come from the option tables
# that parse; installed to share/man/man1 and
# share/bash-completion/completions. Included by UniapInstall.cmake.
set(UNIAP_DOC_COMMANDS plan estimate show compare profile archive model cluster)
set(UNIAP_DOC_ARCHIVE_COMMANDS list show verify merge export)
set(_man ${PROJECT_BINARY_DIR}/man)
set(_pages ${_man}/uniap.1)
foreach(_c IN LISTS UNIAP_DOC_COMMANDS)
  list(APPEND _pages ${_man}/uniap-${_c}.1)
endforeach()
foreach(_c IN LISTS UNIAP_DOC_ARCHIVE_COMMANDS)
  list(APPEND _pages ${_man}/uniap-archive-${_c}.1)
endforeach()
set(_completion ${PROJECT_BINARY_DIR}/completion/uniap)

# The executable runs as an MPI singleton: no launcher, no network, and
# (building as root in a container) Open MPI's root check off.
set(UNIAP_DOC_ENV OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    OMPI_MCA_ess_singleton_isolated=1 ASAN_OPTIONS=detect_leaks=0)
string(REPLACE ";" "," _cmds "${UNIAP_DOC_COMMANDS}")
string(REPLACE ";" "," _subs "${UNIAP_DOC_ARCHIVE_COMMANDS}")
add_custom_command(OUTPUT ${_pages}
  COMMAND ${CMAKE_COMMAND} -E env ${UNIAP_DOC_ENV}
          ${CMAKE_COMMAND} -DUNIAP=$<TARGET_FILE:uniap> -DOUT=${_man} -DCOMMANDS=${_cmds}
          -DARCHIVE_COMMANDS=${_subs} -DVERSION=${PROJECT_VERSION}
          -P ${PROJECT_SOURCE_DIR}/cmake/UniapManPages.cmake
  DEPENDS uniap ${PROJECT_SOURCE_DIR}/cmake/UniapManPages.cmake
  COMMENT "man pages from uniap <command> --man" VERBATIM)
add_custom_command(OUTPUT ${_completion}
  COMMAND ${CMAKE_COMMAND} -E env ${UNIAP_DOC_ENV}
          ${CMAKE_COMMAND} -DUNIAP=$<TARGET_FILE:uniap> -DOUT=${_completion}
          -DIN=${PROJECT_SOURCE_DIR}/cmake/uniap-completion.bash.in -DCOMMANDS=${_cmds}
          -DARCHIVE_COMMANDS=${_subs} -P ${PROJECT_SOURCE_DIR}/cmake/UniapCompletion.cmake
  DEPENDS uniap ${PROJECT_SOURCE_DIR}/cmake/UniapCompletion.cmake
          ${PROJECT_SOURCE_DIR}/cmake/uniap-completion.bash.in
  COMMENT "bash completion from uniap <command> --complete" VERBATIM)
add_custom_target(uniap_docs ALL DEPENDS ${_pages} ${_completion})

install(FILES ${_pages} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${_completion} DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
