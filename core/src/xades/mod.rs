//! XAdES-BES: the AuthTokenRequest for certificate authentication, exclusive C14N, enveloped signatures.
