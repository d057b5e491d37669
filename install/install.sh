#!/bin/sh
# One-command install of catalog-host on Linux and macOS, run from a checkout:
#
#   sh install/install.sh [install options]     e.g. --comfyui-dir ~/ComfyUI
#
# Finds a Python 3.10+, creates the product's own virtual environment in the user data folder
# (Linux: ${XDG_DATA_HOME:-~/.local/share}/catalog-host/venv, macOS: ~/Library/Application
# Support/catalog-host/venv), installs this checkout into it, then hands over to
# `python -m host install` with the arguments given (see `--help` there). Re-running it
# upgrades the package and re-points every registration. Only what the installer does lives
# here; the logic is in host/installer/.
#
# With --system (run with sudo), the venv goes into /opt/catalog-host/venv (macOS:
# /Library/Application Support/catalog-host/venv) instead: root-owned, as a system-wide
# registration requires.
#
# Environment: CATALOG_HOST_PYTHON  the Python to use (else the newest suitable one on PATH)
#              CATALOG_HOST_VENV    where to put the venv (else the user data folder above)
set -eu

say() { printf 'catalog-host: %s\n' "$*"; }
die() { printf 'catalog-host: error: %s\n' "$*" >&2; exit 1; }

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
repo=$(dirname -- "$here")
[ -f "$repo/pyproject.toml" ] && [ -d "$repo/host" ] \
    || die "run this script from a catalog-host checkout (no pyproject.toml next to $here)"

# A Python that is 3.10 or newer and can create virtual environments.
suitable() {
    "$1" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 10))' >/dev/null 2>&1
}

python=""
if [ -n "${CATALOG_HOST_PYTHON:-}" ]; then
    suitable "$CATALOG_HOST_PYTHON" \
        || die "CATALOG_HOST_PYTHON=$CATALOG_HOST_PYTHON is not a Python 3.10+ with venv"
    python=$CATALOG_HOST_PYTHON
else
    for candidate in python3 python3.14 python3.13 python3.12 python3.11 python3.10 python; do
        if command -v "$candidate" >/dev/null 2>&1 && suitable "$candidate"; then
            python=$(command -v "$candidate")
            break
        fi
    done
fi
if [ -z "$python" ]; then
    die "no Python 3.10+ with the venv module found on PATH.
  fix: install one (Debian/Ubuntu: sudo apt install python3 python3-venv; macOS: brew install
  python, or python.org), or set CATALOG_HOST_PYTHON=/path/to/python3"
fi

# --system: the venv goes into the root-owned system folder the installer requires (the
# launcher every account's browser starts must not be writable by any user).
system=0
for arg in "$@"; do
    [ "$arg" = "--system" ] && system=1
done
case "$(uname -s)" in
    Darwin) data="$HOME/Library/Application Support/catalog-host"
            system_data="/Library/Application Support/catalog-host" ;;
    *) data="${XDG_DATA_HOME:-$HOME/.local/share}/catalog-host"
       system_data="/opt/catalog-host" ;;
esac
if [ "$system" = 1 ]; then
    [ "$(id -u)" = 0 ] || die "--system installs into $system_data and the system folders.
  fix: run it with sudo: sudo sh install/install.sh --system"
    data=$system_data
    umask 022
    # sudo may keep the user's HOME: pip must not leave a root-owned cache in it.
    PIP_NO_CACHE_DIR=1
    export PIP_NO_CACHE_DIR
fi
venv="${CATALOG_HOST_VENV:-$data/venv}"

if "$venv/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' >/dev/null 2>&1; then
    say "reusing the virtual environment $venv"
else
    say "creating a virtual environment in $venv with $("$python" -c 'import sys; print(sys.executable, sys.version.split()[0])')"
    mkdir -p "$(dirname -- "$venv")"
    "$python" -m venv --clear "$venv" || die "could not create the virtual environment $venv"
fi
# Marks the venv as ours: `uninstall --remove-venv` deletes only a venv that carries it.
printf 'created by install/install.sh from %s\n' "$repo" >"$venv/.catalog-host-venv"

# A regular (not editable) install: the product keeps working if the checkout is moved or
# deleted, and edits in the checkout reach the browser only by re-running this script (pip
# re-installs a local folder even when its version number has not changed). pip builds in the
# source folder, and setuptools would pack stale files left in a build/ folder there, so it
# builds from a clean copy (this script never writes into the checkout).
say "installing catalog-host from $repo"
src=$(mktemp -d "${TMPDIR:-/tmp}/catalog-host-src.XXXXXX")
trap 'rm -rf "$src"' EXIT
(cd "$repo" && tar -cf - --exclude=./.git --exclude=./.venv --exclude=./build \
    --exclude='*.egg-info' --exclude='__pycache__' --exclude=./.mypy_cache \
    --exclude=./.pytest_cache --exclude=./.ruff_cache .) | (cd "$src" && tar -xf -) \
    || die "could not copy $repo to $src"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$src" \
    || die "pip could not install $repo into $venv (see the messages above)"
rm -rf "$src"
trap - EXIT

# -I: import the package just installed, not the checkout in the current folder, and ignore
# PYTHON* variables of this shell.
exec "$venv/bin/python" -I -m host install "$@"
