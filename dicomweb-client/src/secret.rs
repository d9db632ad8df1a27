//! Newtypes for secrets: passwords and access tokens never print.

use std::fmt;

macro_rules! secret_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            /// Wraps a secret.
            pub fn new(secret: impl Into<String>) -> Self {
                Self(secret.into())
            }

            /// The secret itself: use it to build a request, never to print.
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
            fn from(secret: String) -> Self {
                Self(secret)
            }
        }

        impl From<&str> for $name {
            fn from(secret: &str) -> Self {
                Self(secret.to_owned())
            }
        }
    };
}

secret_type!(
    /// A password (HTTP basic auth, or the pass phrase of a private key).
    Password
);

secret_type!(
    /// An OAuth2 bearer access token.
    AccessToken
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts() {
        let p = Password::new("hunter2");
        let t = AccessToken::new("ya29.secret");
        assert_eq!(format!("{p:?}"), "Password([redacted])");
        assert_eq!(format!("{t:?}"), "AccessToken([redacted])");
        assert_eq!(p.secret(), "hunter2");
        assert!(!format!("{:?}", Some(&t)).contains("ya29"));
    }
}
