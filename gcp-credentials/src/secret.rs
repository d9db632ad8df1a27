//! Newtypes for secrets: they never print.
//!
//! [`AccessToken`], [`RefreshToken`], [`ClientSecret`] and [`PrivateKeyPem`] hold text that grants
//! access to Google Cloud. Their `Debug` prints `[redacted]` and none implements `Display`, so a
//! secret cannot slip into a log line or an error message by accident; reading one takes an
//! explicit call to `secret()`.

use std::fmt;
use std::sync::Arc;

macro_rules! secret_newtype {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(Arc<str>);

        impl $name {
            /// Wraps a secret value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(Arc::from(value.into()))
            }

            /// The secret text itself. Call this only where the secret goes on the wire.
            pub fn secret(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "([redacted])"))
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map(Self::new)
            }
        }
    };
}

secret_newtype!(
    /// An OAuth2 access token, sent as `Authorization: Bearer <token>`.
    AccessToken
);
secret_newtype!(
    /// An OAuth2 refresh token (from gcloud's `authorized_user` file).
    RefreshToken
);
secret_newtype!(
    /// An OAuth2 client secret (from gcloud's `authorized_user` file).
    ClientSecret
);
secret_newtype!(
    /// A PEM-encoded private key, as found in a service account key file.
    PrivateKeyPem
);

impl AccessToken {
    /// The value of an `Authorization` header carrying this token: `Bearer <token>`.
    ///
    /// The header value is marked sensitive, so `http`'s own `Debug` hides it too.
    pub fn authorization_header(&self) -> Option<http::HeaderValue> {
        let mut value = http::HeaderValue::try_from(format!("Bearer {}", self.secret())).ok()?;
        value.set_sensitive(true);
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let token = AccessToken::new("ya29.very-secret");
        let shown = format!("{token:?} {:?}", RefreshToken::new("1//refresh"));
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(!shown.contains("refresh\""), "{shown}");
        assert!(shown.contains("[redacted]"));
        assert_eq!(token.secret(), "ya29.very-secret");
    }

    #[test]
    fn authorization_header_is_sensitive() {
        let header = AccessToken::new("abc").authorization_header().unwrap();
        assert_eq!(header.to_str().unwrap(), "Bearer abc");
        assert!(header.is_sensitive());
        assert!(
            AccessToken::new("bad\ntoken")
                .authorization_header()
                .is_none()
        );
    }
}
