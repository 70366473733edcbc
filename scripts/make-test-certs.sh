#!/usr/bin/env bash
# Makes TLS test material for Chirp (spec §1.3) into DIR (default build/test-certs), with the
# openssl CLI:
#   ca.pem, ca.key                 a CA (v3, CA:TRUE)
#   node1.pem, node2.pem           libchirp-style chain files (CERT_CHAIN_PEM layout: key, leaf,
#                                  CA in one PEM); v3 leaves signed by the CA
#   node1.key, node1.crt, ...      the same parts as separate files
#   v1.pem                         a chain whose leaf is an X.509 v1 certificate (no extensions),
#                                  made like libchirp's example mk/cert.pem
#   foreign-ca.pem, foreign.pem    another CA and a node chain signed by it (not trusted by ca.pem)
#   dh.pem                         2048-bit DH parameters: RFC 7919 ffdhe2048, copied from
#                                  scripts/ffdhe2048.pem (instant, unlike `openssl dhparam 2048`)
# Usage: scripts/make-test-certs.sh [DIR] [DAYS]   (DAYS: validity, default 30)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="${1:-$here/../build/test-certs}"
days="${2:-30}"
mkdir -p "$dir"
cd "$dir"
ssl() { openssl "$@" 2>/dev/null; }

key() { ssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1"; }

ca() { # name subject
  key "$1.key"
  ssl req -x509 -new -key "$1.key" -sha256 -days "$days" -subj "/CN=$2" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$1.crt"
  cp "$1.crt" "$1.pem"
}

leaf() { # name ca-name subject v1|v3
  key "$1.key"
  ssl req -new -key "$1.key" -subj "/CN=$3" -out "$1.csr"
  if [ "$4" = v1 ]; then
    # No extension file: `openssl x509 -req` writes a version 1 certificate (as libchirp's example).
    ssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial -sha256 -days "$days" -out "$1.crt"
  else
    printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:%s\n' "$3" > "$1.ext"
    ssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial -sha256 -days "$days" -extfile "$1.ext" -out "$1.crt"
    rm -f "$1.ext"
  fi
  rm -f "$1.csr"
  cat "$1.key" "$1.crt" "$2.crt" > "$1.pem"
}

ca ca "Chirp test CA"
leaf node1 ca "chirp-node-1" v3
leaf node2 ca "chirp-node-2" v3
leaf v1 ca "chirp-node-v1" v1
ca foreign-ca "Foreign test CA"
leaf foreign foreign-ca "foreign-node" v3
cp "$here/ffdhe2048.pem" dh.pem
# Check what the tests rely on.
openssl x509 -in v1.crt -noout -text | grep -q "Version: 1 " || { echo "v1.crt is not an X.509 v1 certificate" >&2; exit 1; }
openssl verify -CAfile ca.crt node1.crt node2.crt v1.crt >/dev/null
! openssl verify -CAfile ca.crt foreign.crt >/dev/null 2>&1 || { echo "foreign.crt must not verify against ca.crt" >&2; exit 1; }
echo "$dir"
