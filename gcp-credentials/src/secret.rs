//! Newtypes for secrets: they never print. The crate family's one home for them.
//!
//! [`AccessToken`], [`RefreshToken`], [`ClientSecret`] and [`PrivateKeyPem`] hold text that grants
//! access to Google Cloud; [`Password`] is for HTTP basic authentication and private key pass
//! phrases (the DICOMweb client's). Their `Debug` prints `[redacted]` and none implements
//! `Display`, so a secret cannot slip into a log line or an error message by accident; reading
//! one takes an explicit call to `secret()`. The DICOMweb client re-exports [`AccessToken`] and
//! [`Password`], so a token from this crate's provider goes into its requests as it is.

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

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self::new(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(Arc::from(value))
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
secret_newtype!(
    /// A password: HTTP basic authentication, or the pass phrase of a private key.
    Password
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
        let shown = format!(
            "{token:?} {:?} {:?}",
            RefreshToken::new("1//refresh"),
            Password::from("hunter2")
        );
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("Password([redacted])"), "{shown}");
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(!shown.contains("refresh\""), "{shown}");
        assert!(shown.contains("[redacted]"));
        assert_eq!(token.secret(), "ya29.very-secret");
        assert_eq!(AccessToken::from(String::from("t")), AccessToken::new("t"));
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
