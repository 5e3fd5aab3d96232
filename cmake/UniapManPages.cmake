# UniapManPages.cmake - writes the man pages (section 1) of the built uniap
# into OUT, run at build time (cmake -P) by the rule in UniapDocs.cmake:
#   cmake -DUNIAP=<uniap> -DOUT=<dir> -DCOMMANDS=plan,estimate,...
#         -DARCHIVE_COMMANDS=list,show,... -DVERSION=<x.y.z> -P UniapManPages.cmake
# uniap-<command>.1 and uniap-archive-<sub>.1 are `uniap ... --man` (the
# page generated from the command's option table). uniap.1 and
# uniap-archive.1 (the command lists) are `uniap [archive] --man` when the
# executable has it, else the `--help` text of the command list in a page.
cmake_minimum_required(VERSION 3.20)
foreach(_v IN ITEMS UNIAP OUT COMMANDS ARCHIVE_COMMANDS VERSION)
  if(NOT DEFINED ${_v})
    message(FATAL_ERROR "UniapManPages.cmake: -D${_v}=... is required")
  endif()
endforeach()
string(REPLACE "," ";" COMMANDS "${COMMANDS}")
string(REPLACE "," ";" ARCHIVE_COMMANDS "${ARCHIVE_COMMANDS}")
file(MAKE_DIRECTORY ${OUT})

# _uniap_run(<out var> <ok var> args...): stdout of `uniap args...`; ok is
# TRUE when it exited 0 and printed a page (.TH first).
function(_uniap_run out ok)
  execute_process(COMMAND ${UNIAP} ${ARGN} OUTPUT_VARIABLE _o ERROR_VARIABLE _e
    RESULT_VARIABLE _rc TIMEOUT 60)
  set(${out} "${_o}" PARENT_SCOPE)
  if(_rc EQUAL 0 AND _o MATCHES "^\\.TH ")
    set(${ok} TRUE PARENT_SCOPE)
  else()
    set(${ok} FALSE PARENT_SCOPE)
    set(_uniap_run_error "uniap ${ARGN}: status ${_rc}: ${_e}" PARENT_SCOPE)
  endif()
endfunction()

# _roff_text(<var> text): text escaped for roff (backslashes, dashes, a
# leading dot or quote).
function(_roff_text var text)
  string(REPLACE "\\" "\\e" text "${text}")
  string(REPLACE "-" "\\-" text "${text}")
  string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" text "${text}")
  set(${var} "${text}" PARENT_SCOPE)
endfunction()

# _list_page(<file> <title> <name> <summary> <help args> <see also>): a page
# around the --help text of a command list.
function(_list_page file title name summary help_args see)
  execute_process(COMMAND ${UNIAP} ${help_args} OUTPUT_VARIABLE _help ERROR_VARIABLE _help_err
    RESULT_VARIABLE _rc TIMEOUT 60)
  if(NOT _rc EQUAL 0 OR _help STREQUAL "")
    message(FATAL_ERROR "uniap ${help_args}: status ${_rc}: ${_help_err}")
  endif()
  _roff_text(_help "${_help}")
  _roff_text(_name "${name}")
  _roff_text(_summary "${summary}")
  file(WRITE ${file} ".TH ${title} 1 \"\" \"uniap ${VERSION}\" \"uniap manual\"\n"
    ".SH NAME\n${_name} \\- ${_summary}\n"
    ".SH DESCRIPTION\n.nf\n${_help}.fi\n"
    ".SH SEE ALSO\n${see}\n")
endfunction()

foreach(_c IN LISTS COMMANDS)
  if(_c STREQUAL "archive")
    continue()
  endif()
  _uniap_run(_page _ok ${_c} --man)
  if(NOT _ok)
    message(FATAL_ERROR "${_uniap_run_error}")
  endif()
  file(WRITE ${OUT}/uniap-${_c}.1 "${_page}")
endforeach()

set(_archive_see "")
foreach(_s IN LISTS ARCHIVE_COMMANDS)
  _uniap_run(_page _ok archive ${_s} --man)
  if(NOT _ok)
    message(FATAL_ERROR "${_uniap_run_error}")
  endif()
  file(WRITE ${OUT}/uniap-archive-${_s}.1 "${_page}")
  list(APPEND _archive_see "\\fBuniap\\-archive\\-${_s}\\fR(1)")
endforeach()
string(JOIN ",\n" _archive_see ${_archive_see})
if("archive" IN_LIST COMMANDS)
  _uniap_run(_page _ok archive --man)
  if(_ok)
    file(WRITE ${OUT}/uniap-archive.1 "${_page}")
  else()
    _list_page(${OUT}/uniap-archive.1 UNIAP-ARCHIVE uniap-archive
      "list, show, verify, merge and export profile datasets" "archive;--help" "${_archive_see}")
  endif()
endif()

_uniap_run(_page _ok --man)
if(_ok)
  file(WRITE ${OUT}/uniap.1 "${_page}")
else()
  set(_see "")
  foreach(_c IN LISTS COMMANDS)
    list(APPEND _see "\\fBuniap\\-${_c}\\fR(1)")
  endforeach()
  string(JOIN ",\n" _see ${_see})
  _list_page(${OUT}/uniap.1 UNIAP uniap
    "joint inter- and intra-layer automatic parallelism (UniAP): profile a cluster, plan the fastest parallel training"
    "--help" "${_see}")
endif()
