use core::fmt;

/// Why a verifying key, a proof or a set of public inputs was not accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// Bytes that do not follow the documented format (the message says where and why).
    Malformed(String),
    /// Public inputs that do not fit the circuit (wrong number of columns, too many values).
    PublicInputs(String),
    /// A well-formed proof that fails the check: it does not prove this statement.
    Rejected(&'static str),
    /// A proof file that does not claim what it is checked for: made for another verifying
    /// key, under an SRS other than the one required, or showing outputs that are not the
    /// values its public inputs encode.
    Statement(String),
}

impl Error {
    /// True for input that does not follow the formats; false for a rejection.
    pub fn is_malformed(&self) -> bool {
        matches!(self, Error::Malformed(_))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Malformed(m) => write!(f, "malformed input: {m}"),
            Error::PublicInputs(m) => write!(f, "public inputs do not fit the circuit: {m}"),
            Error::Rejected(m) => write!(f, "proof rejected: {m}"),
            Error::Statement(m) => write!(f, "proof rejected: {m}"),
        }
    }
}

impl std::error::Error for Error {}

pub(crate) fn malformed(msg: impl Into<String>) -> Error {
    Error::Malformed(msg.into())
}
