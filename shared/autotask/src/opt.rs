//! A three-state optional for writes: unset (not sent), null (sent as `null`,
//! clears the field), or a value. PATCH only touches what is set, so it never
//! nulls what it did not mean to.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, Default, PartialEq)]
pub enum Opt<T> {
    #[default]
    Unset,
    Null,
    Value(T),
}

impl<T> Opt<T> {
    pub fn is_unset(&self) -> bool {
        matches!(self, Opt::Unset)
    }
    pub fn value(&self) -> Option<&T> {
        match self {
            Opt::Value(v) => Some(v),
            _ => None,
        }
    }
    /// Unset for None, a value for Some (never null).
    pub fn from_option(o: Option<T>) -> Self {
        o.map_or(Opt::Unset, Opt::Value)
    }
}

impl<T> From<T> for Opt<T> {
    fn from(v: T) -> Self {
        Opt::Value(v)
    }
}

impl<T: Serialize> Serialize for Opt<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Opt::Value(v) => v.serialize(s),
            // Unset fields are skipped with `skip_serializing_if = "Opt::is_unset"`.
            Opt::Unset | Opt::Null => s.serialize_none(),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Opt<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A present key: null or a value. An absent key uses `#[serde(default)]` (Unset).
        Ok(match Option::<T>::deserialize(d)? {
            Some(v) => Opt::Value(v),
            None => Opt::Null,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, Deserialize, Default)]
    struct P {
        #[serde(skip_serializing_if = "Opt::is_unset", default)]
        a: Opt<i64>,
        #[serde(skip_serializing_if = "Opt::is_unset", default)]
        b: Opt<i64>,
        #[serde(skip_serializing_if = "Opt::is_unset", default)]
        c: Opt<i64>,
    }

    #[test]
    fn three_states_on_the_wire() {
        let p = P { a: Opt::Unset, b: Opt::Null, c: Opt::Value(3) };
        assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"b":null,"c":3}"#);
        let back: P = serde_json::from_str(r#"{"b":null,"c":3}"#).unwrap();
        assert_eq!((back.a, back.b, back.c), (Opt::Unset, Opt::Null, Opt::Value(3)));
    }
}
