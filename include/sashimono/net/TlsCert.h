#pragma once
// Self-signed TLS server certificates, as made at instance provisioning for wss:// user ports.
//
// makeSelfSignedCertificate writes a fresh ECDSA P-256 key and an X.509 v3 certificate for it:
//  - subject = issuer = CN=<commonName>; a random positive 128-bit serial number;
//  - valid from one hour ago (clock skew) for `validity`;
//  - subjectAltName IP:<commonName> when it is an IPv4/IPv6 literal, else DNS:<commonName>;
//  - basicConstraints CA:FALSE, keyUsage digitalSignature, extendedKeyUsage serverAuth (all
//    critical except the last), subjectKeyIdentifier; signed ecdsa-with-SHA256.
// commonName must be an IP literal or a host name (letters, digits, '-', '.', at most 64
// characters; a leading "*." wildcard label is allowed). Both files are PEM and written
// atomically (a temporary file in the same directory, fsync, rename): the key with mode 0600
// (unencrypted PKCS#8), the certificate 0644. Existing files are replaced (renewal); on error
// neither is touched. The key is renamed into place first, so a reader that sees the new
// certificate also sees its key; one in between sees a new key with the old certificate, which
// WsServer::reloadTls refuses (keeping the old pair) — reload after this returns.
//
// Thread-safety: free functions, safe to call concurrently (on different files).
#include <chrono>
#include <string>

#include "sashimono/core/Result.h"

namespace sashimono::net {

core::Status makeSelfSignedCertificate(const std::string& keyFile, const std::string& certFile,
                                       const std::string& commonName,
                                       std::chrono::hours validity = std::chrono::hours(24 * 3650));

// SHA-256 of the DER encoding of the first certificate in a PEM file, as 64 lower-case hex digits
// (what `openssl x509 -fingerprint -sha256` prints, without the colons).
core::Result<std::string> certificateFingerprintSha256(const std::string& certFile);

}  // namespace sashimono::net
