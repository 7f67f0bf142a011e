#!/usr/bin/env bash
# Validate KSeF invoice XML files against the official XSD with xmllint.
#
# usage: tests/xsd-check.sh [-v] [DIR|FILE]...
#
#   DIR    every *.xml below it (recursively) is validated; a missing or empty
#          directory is an ERROR, never a vacuous pass.
#   FILE   validated as given.
#   -v     also list the files that validate.
#
# Default argument: <repo>/target/xsd-out (where the core's tests write emitted XML).
# The schema is picked from the root element's namespace:
#   FA(3)  http://crd.gov.pl/wzor/2025/06/25/13775/  ->  xsd/fa/schemat_FA(3)_v1-0E.xsd
#   FA(2)  http://crd.gov.pl/wzor/2023/06/29/12648/  ->  xsd/fa/schemat_FA(2)_v1-0E.xsd
# Any other namespace fails.
#
# env: KSEF_SPEC  the ksef-spec folder (default: <repo>/../shared/ksef-spec)
#
# exit: 0 all valid, 1 some file invalid, 2 usage/setup error.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
spec=${KSEF_SPEC:-$root/../shared/ksef-spec}

FA3_NS='http://crd.gov.pl/wzor/2025/06/25/13775/'
FA2_NS='http://crd.gov.pl/wzor/2023/06/29/12648/'
FA3_XSD="$spec/xsd/fa/schemat_FA(3)_v1-0E.xsd"
FA2_XSD="$spec/xsd/fa/schemat_FA(2)_v1-0E.xsd"

die() {
    echo "xsd-check: ERROR: $*" >&2
    exit 2
}

verbose=0
if [[ ${1:-} == -v ]]; then
    verbose=1
    shift
fi

command -v xmllint >/dev/null ||
    die "xmllint not found (Debian/Ubuntu: apt-get install libxml2-utils, or run 'make deps')"
for xsd in "$FA3_XSD" "$FA2_XSD"; do
    [[ -f $xsd ]] || die "schema not found: $xsd (set KSEF_SPEC to the ksef-spec folder)"
done

(($#)) || set -- "$root/target/xsd-out"

files=()
for arg in "$@"; do
    if [[ -d $arg ]]; then
        mapfile -t found < <(find "$arg" -type f -name '*.xml' | LC_ALL=C sort)
        ((${#found[@]})) ||
            die "no *.xml files in '$arg' - nothing to validate (did the tests that emit XML run?)"
        files+=("${found[@]}")
    elif [[ -f $arg ]]; then
        files+=("$arg")
    else
        die "no such file or directory: '$arg' (did the tests that emit XML run?)"
    fi
done

ok=0 n_fa3=0 n_fa2=0
failed=()
for f in "${files[@]}"; do
    ns=$(xmllint --nonet --xpath 'namespace-uri(/*)' "$f" 2>/dev/null) || ns=''
    case $ns in
    "$FA3_NS") kind='FA(3)' xsd=$FA3_XSD n_fa3=$((n_fa3 + 1)) ;;
    "$FA2_NS") kind='FA(2)' xsd=$FA2_XSD n_fa2=$((n_fa2 + 1)) ;;
    *)
        echo "FAIL  $f: not an FA(3)/FA(2) invoice (root namespace: '${ns:-<none or unparsable>}')"
        xmllint --noout --nonet "$f" 2>&1 | sed 's/^/      /' || true
        failed+=("$f")
        continue
        ;;
    esac
    if out=$(xmllint --noout --nonet --schema "$xsd" "$f" 2>&1); then
        ok=$((ok + 1))
        ((verbose)) && echo "ok    $kind  $f"
    else
        echo "FAIL  $kind  $f"
        grep -v ' fails to validate$' <<<"$out" | sed 's/^/      /' || true
        failed+=("$f")
    fi
done

echo "xsd-check: ${#files[@]} file(s) [FA(3): $n_fa3, FA(2): $n_fa2] in: $*"
echo "xsd-check: $ok valid, ${#failed[@]} invalid"
if ((${#failed[@]})); then
    printf 'xsd-check: INVALID: %s\n' "${failed[@]}"
    exit 1
fi
