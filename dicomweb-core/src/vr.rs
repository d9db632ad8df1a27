//! Value representations (PS3.5 §6.2), every one of the current standard.

use std::fmt;
use std::str::FromStr;

use crate::Error;

macro_rules! vrs {
    ($($name:ident => $doc:literal),* $(,)?) => {
        /// A value representation: how a data element's value is encoded (PS3.5 Table 6.2-1).
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
        pub enum Vr {
            $(#[doc = $doc] $name,)*
        }

        impl Vr {
            /// Every value representation, in alphabetical order.
            pub const ALL: &'static [Vr] = &[$(Vr::$name,)*];

            /// The two-letter code, e.g. `"PN"`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Vr::$name => stringify!($name),)*
                }
            }

            /// The VR of a two-letter code: one look-up in a table of every pair of capital
            /// letters (a `match` on the code compiles to a tree of branches that the readers'
            /// varying VRs keep mispredicting).
            #[inline]
            pub(crate) fn from_code(code: [u8; 2]) -> Option<Vr> {
                const CODES: [Option<Vr>; 26 * 26] = {
                    let mut table = [None; 26 * 26];
                    let mut i = 0;
                    while i < Vr::ALL.len() {
                        let code = Vr::ALL[i].as_str().as_bytes();
                        table[(code[0] - b'A') as usize * 26 + (code[1] - b'A') as usize] =
                            Some(Vr::ALL[i]);
                        i += 1;
                    }
                    table
                };
                let [first, second] = code;
                if !first.is_ascii_uppercase() || !second.is_ascii_uppercase() {
                    return None;
                }
                CODES[usize::from(first - b'A') * 26 + usize::from(second - b'A')]
            }
        }

        impl FromStr for Vr {
            type Err = Error;

            fn from_str(text: &str) -> Result<Vr, Error> {
                match text {
                    $(stringify!($name) => Ok(Vr::$name),)*
                    _ => Err(Error::InvalidVr { text: text.to_owned() }),
                }
            }
        }
    };
}

vrs! {
    AE => "Application Entity",
    AS => "Age String",
    AT => "Attribute Tag",
    CS => "Code String",
    DA => "Date",
    DS => "Decimal String",
    DT => "Date Time",
    FD => "Floating Point Double",
    FL => "Floating Point Single",
    IS => "Integer String",
    LO => "Long String",
    LT => "Long Text",
    OB => "Other Byte",
    OD => "Other Double",
    OF => "Other Float",
    OL => "Other Long",
    OV => "Other 64-bit Very Long",
    OW => "Other Word",
    PN => "Person Name",
    SH => "Short String",
    SL => "Signed Long",
    SQ => "Sequence of Items",
    SS => "Signed Short",
    ST => "Short Text",
    SV => "Signed 64-bit Very Long",
    TM => "Time",
    UC => "Unlimited Characters",
    UI => "Unique Identifier",
    UL => "Unsigned Long",
    UN => "Unknown",
    UR => "Universal Resource Identifier",
    US => "Unsigned Short",
    UT => "Unlimited Text",
    UV => "Unsigned 64-bit Very Long",
}

/// How a VR's values are carried in DICOM JSON and XML: the shape of its [`Value`](crate::Value).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ValueKind {
    /// Character strings: AE AS CS DA DT LO LT SH ST TM UC UI UR UT.
    Text,
    /// Numbers written as text in Part 10, whose text is kept exactly: IS, DS.
    DecimalText,
    /// Binary integers: SL SS UL US SV UV.
    Integer,
    /// Binary floating point: FL FD.
    Float,
    /// Attribute tags: AT.
    Tag,
    /// Person names: PN.
    PersonName,
    /// Sequences of items: SQ.
    Sequence,
    /// Bulk binary values, carried as InlineBinary or BulkDataURI: OB OD OF OL OV OW UN.
    Binary,
}

impl Vr {
    /// The shape of this VR's values.
    // A table indexed by the VR rather than a `match`, which compiles to a jump table: the
    // readers ask this once per element, and the VRs of a data set vary from one to the next.
    #[inline]
    pub const fn kind(self) -> ValueKind {
        const KINDS: [ValueKind; Vr::ALL.len()] = {
            let mut table = [ValueKind::Binary; Vr::ALL.len()];
            let mut i = 0;
            while i < Vr::ALL.len() {
                table[i] = kind_of(Vr::ALL[i]);
                i += 1;
            }
            table
        };
        KINDS[self as usize]
    }
}

/// The shape of a VR's values, by name.
const fn kind_of(vr: Vr) -> ValueKind {
    use Vr::*;
    match vr {
        AE | AS | CS | DA | DT | LO | LT | SH | ST | TM | UC | UI | UR | UT => ValueKind::Text,
        IS | DS => ValueKind::DecimalText,
        SL | SS | UL | US | SV | UV => ValueKind::Integer,
        FL | FD => ValueKind::Float,
        AT => ValueKind::Tag,
        PN => ValueKind::PersonName,
        SQ => ValueKind::Sequence,
        OB | OD | OF | OL | OV | OW | UN => ValueKind::Binary,
    }
}

impl fmt::Display for Vr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_vr_round_trips_through_its_code() {
        assert_eq!(Vr::ALL.len(), 34);
        for (i, &vr) in Vr::ALL.iter().enumerate() {
            assert_eq!(
                vr as usize, i,
                "the kind table is indexed by declaration order"
            );
            assert_eq!(vr.kind(), kind_of(vr));
            let code = vr.as_str().as_bytes();
            assert_eq!(Vr::from_code([code[0], code[1]]), Some(vr));
            assert_eq!(vr.as_str().parse::<Vr>().unwrap(), vr);
        }
        assert_eq!(Vr::from_code(*b"XX"), None);
        assert_eq!(Vr::from_code(*b"pn"), None);
        assert_eq!(Vr::from_code(*b"\"A"), None);
        for code in ["OV", "SV", "UV"] {
            assert!(code.parse::<Vr>().is_ok(), "{code}");
        }
    }

    #[test]
    fn unknown_code_names_itself() {
        let err = "XX".parse::<Vr>().unwrap_err();
        assert!(err.to_string().contains("\"XX\""), "{err}");
        assert!("pn".parse::<Vr>().is_err());
    }
}
