# devnodes.sh - sourced by the shell tests that aim outputs at device nodes.
# Sets FULL and NULLDEV: as root (CI) private nodes made with mknod in the
# current folder (the same kind of file as /dev/full and /dev/null), so that
# a regression replaces those and never the machine's own; otherwise the
# machine's, which a non-root user cannot replace.
FULL=/dev/full NULLDEV=/dev/null
if [ "$(id -u)" = 0 ]; then
    rm -f dev-full dev-null
    mknod dev-full c 1 7 2>/dev/null && FULL=$PWD/dev-full
    mknod dev-null c 1 3 2>/dev/null && NULLDEV=$PWD/dev-null
fi
