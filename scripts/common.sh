# Shared by backup.sh and restore.sh (sourced, not run): messages, the error trap, finding ops-db.
# The sourcing script sets PROG first.
# shellcheck shell=bash

say() { printf '%s: %s\n' "$PROG" "$*"; }
die() {
    local code=$1
    shift
    printf '%s: %s\n' "$PROG" "$*" >&2
    exit "$code"
}
# shellcheck disable=SC2317  # called from the ERR trap
on_error() {
    # errtrace runs this in a failing $(...) subshell too: only the script itself speaks, once.
    [[ $BASHPID == "$$" ]] || exit "$2"
    die 1 "unexpected failure at line $1 (exit $2)" # 1: ExitCode.FAILURE
}
trap 'on_error "$LINENO" "$?"' ERR

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$SCRIPT_DIR")

# Installed from the wheel, these scripts live in <venv>/lib/pythonX.Y/site-packages/ops_db/_data/scripts.
INSTALL_PREFIX=""
if [[ -d $SCRIPT_DIR/../../../../../.. ]]; then
    INSTALL_PREFIX=$(cd "$SCRIPT_DIR/../../../../../.." && pwd)
fi

find_ops_db() {
    if [[ -n ${OPS_DB_BIN:-} ]]; then
        printf '%s\n' "$OPS_DB_BIN"
    elif [[ -x $REPO_DIR/.venv/bin/ops-db ]]; then
        printf '%s\n' "$REPO_DIR/.venv/bin/ops-db"
    elif [[ $SCRIPT_DIR == */site-packages/ops_db/_data/scripts && -x $INSTALL_PREFIX/bin/ops-db ]]; then
        printf '%s\n' "$INSTALL_PREFIX/bin/ops-db"
    else
        command -v ops-db || return 1
    fi
}
