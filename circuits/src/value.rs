//! A witness value that is known when proving and unknown during key generation.

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Value<T>(Option<T>);

impl<T> Value<T> {
    pub fn known(v: T) -> Self {
        Value(Some(v))
    }

    pub fn unknown() -> Self {
        Value(None)
    }

    pub fn is_known(&self) -> bool {
        self.0.is_some()
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Value<U> {
        Value(self.0.map(f))
    }

    pub fn zip<U>(self, other: Value<U>) -> Value<(T, U)> {
        Value(self.0.zip(other.0))
    }

    pub fn as_ref(&self) -> Value<&T> {
        Value(self.0.as_ref())
    }

    pub(crate) fn into_option(self) -> Option<T> {
        self.0
    }
}

impl<T, E> Value<Result<T, E>> {
    /// Surfaces an error from a witness computation; unknown values stay unknown.
    pub fn transpose(self) -> Result<Value<T>, E> {
        match self.0 {
            None => Ok(Value(None)),
            Some(r) => r.map(|v| Value(Some(v))),
        }
    }
}

impl<T: Copy> Value<T> {
    /// The value when known; `None` during key generation.
    pub fn inner(&self) -> Option<T> {
        self.0
    }
}

impl<T> FromIterator<Value<T>> for Value<Vec<T>> {
    fn from_iter<I: IntoIterator<Item = Value<T>>>(iter: I) -> Self {
        Value(iter.into_iter().map(|v| v.0).collect())
    }
}
