# shellcheck shell=bash
# Throwaway certificates for the transport and JWT tests. Made at test time into a temporary directory and never
# committed: no private key belongs in git.
#
#   source scripts/lib/certs.sh && tuku_make_certs DIR
#
# DIR receives (all keys unencrypted PKCS#8 PEM):
#   ca.pem ca.key                   test root CA
#   server.pem server.key           server cert from ca for DNS:localhost, IP:127.0.0.1
#   client.pem client.key           client cert (clientAuth) from ca
#   wronghost-server.pem .key       server cert from ca for DNS:gateway.example only (host name mismatch)
#   intermediate.pem                intermediate CA from ca
#   chain-client.pem chain-client.key  client cert from the intermediate; chain-client-chain.pem = leaf + intermediate
#   other-ca.pem other-ca.key       a second CA nobody trusts
#   other-server.pem other-server.key  server cert for localhost from other-ca
#   other-client.pem other-client.key  client cert from other-ca
#   jwt-rsa.pem jwt-rsa.key         self-signed RSA 2048 JWT signing certificate (as IRD's M2M guide makes it)
#   jwt-ec.pem jwt-ec.key           self-signed EC P-256 JWT signing certificate
#   jwt-ec384.pem jwt-ec384.key     self-signed EC P-384 JWT signing certificate
#   jwt-rsa-pkcs1.key               jwt-rsa.key in the traditional PKCS#1 RSA PEM form

tuku_make_certs() {
  local dir="${1:?usage: tuku_make_certs DIR}"
  mkdir -p "$dir"
  (
    set -euo pipefail
    cd "$dir"
    local days=30

    # A CA: $1 = base name, $2 = subject.
    make_ca() {
      openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.pem" -days "$days" -subj "$2" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    }
    # A leaf or intermediate: $1 = base name, $2 = subject, $3 = issuer base name, $4 = extensions.
    make_cert() {
      openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
      printf '%b' "$4" >"$1.ext"
      openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial -out "$1.pem" -days "$days" \
        -extfile "$1.ext" 2>/dev/null
      rm -f "$1.csr" "$1.ext"
    }
    local server_ext='basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n'
    local client_ext='basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n'
    local ca_ext='basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n'

    make_ca ca "/CN=Tuku Test CA"
    make_cert server "/CN=localhost" ca "$server_ext"
    make_cert client "/O=Tuku Test/CN=tuku-test-client" ca "$client_ext"
    make_cert wronghost-server "/CN=gateway.example" ca "${server_ext/DNS:localhost,IP:127.0.0.1/DNS:gateway.example}"
    make_cert intermediate "/CN=Tuku Test Intermediate CA" ca "$ca_ext"
    make_cert chain-client "/O=Tuku Test/CN=tuku-chain-client" intermediate "$client_ext"
    cat chain-client.pem intermediate.pem >chain-client-chain.pem

    make_ca other-ca "/CN=Untrusted Test CA"
    make_cert other-server "/CN=localhost" other-ca "$server_ext"
    make_cert other-client "/O=Elsewhere/CN=untrusted-client" other-ca "$client_ext"

    # JWT signing certificates are self-signed (IRD allows that for signing certificates).
    openssl req -x509 -newkey rsa:2048 -nodes -keyout jwt-rsa.key -out jwt-rsa.pem -days "$days" \
      -subj "/O=Tuku Test Payroll/CN=tuku-jwt-rsa" 2>/dev/null
    openssl rsa -in jwt-rsa.key -traditional -out jwt-rsa-pkcs1.key 2>/dev/null
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout jwt-ec.key -out jwt-ec.pem \
      -days "$days" -subj "/O=Tuku Test Payroll/CN=tuku-jwt-ec" 2>/dev/null
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout jwt-ec384.key -out jwt-ec384.pem \
      -days "$days" -subj "/O=Tuku Test Payroll/CN=tuku-jwt-ec384" 2>/dev/null

    rm -f ./*.srl
    chmod 600 ./*.key
  )
}
