#!/bin/sh
# Installs every Debian package uniap needs to build, test and run.
# Idempotent: packages already present are skipped, and apt-get update runs
# only when something is missing. Run as root (or with sudo) on Debian 12.
set -eu

PKGS="cmake make gcc pkg-config git
      openmpi-bin libopenmpi-dev
      libhdf5-openmpi-dev hdf5-tools
      libglpk-dev glpk-utils
      libcjson-dev libopenblas-dev
      clang libclang-rt-14-dev
      iproute2 python3 librsvg2-bin libxml2-utils
      slurm-wlm slurmctld slurmd slurm-client munge"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    echo "install-deps: all packages present"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
echo "install-deps: installing:$missing"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
