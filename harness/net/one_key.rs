//! Enums written as a one-key map (`random: { rate: 1% }`) or a bare name (`constant`), read
//! straight from any deserializer: serde_yaml 0.9 reads externally tagged enums from YAML tags
//! only, and buffering the value would lose where each field was written.

use crate::units::de_error;
use serde::de::{self, DeserializeSeed, IgnoredAny, IntoDeserializer, MapAccess, Visitor};
use std::fmt;
use std::marker::PhantomData;

/// An externally tagged enum written as a one-key map (`random: {rate: 1%}`) or, for a
/// variant without fields, its bare name (`constant`), read by [`one_key_map_enum`].
pub(crate) trait OneKeyEnum: Sized {
    /// What the value is, for "expected ..." in errors (`a loss model like ...`).
    const EXPECTING: &'static str;
    /// The type's derived (`remote = "Self"`) reader.
    fn derived<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error>;
}

/// Reads a [`OneKeyEnum`] straight from the deserializer's map or string, without buffering
/// the value, so that an error inside it keeps its place (`loss.random.rate`) and comes out
/// in the deserializer's own words. serde_yaml 0.9 reads enums from YAML tags only; this reads
/// the one-key map form with any deserializer.
pub(crate) fn one_key_map_enum<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: OneKeyEnum,
{
    d.deserialize_any(OneKeyVisitor(PhantomData))
}

struct OneKeyVisitor<T>(PhantomData<T>);

impl<'de, T: OneKeyEnum> Visitor<'de> for OneKeyVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        T::derived(BareName::<E> {
            name: v,
            _e: PhantomData,
        })
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<T, A::Error> {
        let value = T::derived(OneEntry { map: &mut m })?;
        if m.next_key::<IgnoredAny>()?.is_some() {
            return Err(de_error(
                "more than one key",
                T::EXPECTING,
                "a mapping with several keys",
            ));
        }
        Ok(value)
    }
}

/// The map form: its one key names the variant, its value holds the fields.
struct OneEntry<'a, A> {
    map: &'a mut A,
}

impl<'de, A: MapAccess<'de>> de::Deserializer<'de> for OneEntry<'_, A> {
    type Error = A::Error;
    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, A::Error> {
        self.deserialize_enum("", &[], v)
    }
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, A::Error> {
        v.visit_enum(self)
    }
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map struct
        identifier ignored_any
    }
}

impl<'de, A: MapAccess<'de>> de::EnumAccess<'de> for OneEntry<'_, A> {
    type Error = A::Error;
    type Variant = Self;
    fn variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<(S::Value, Self), A::Error> {
        match self.map.next_key_seed(seed)? {
            Some(v) => Ok((v, self)),
            None => Err(de_error(
                "an empty mapping",
                "one key naming the kind",
                "`{}`",
            )),
        }
    }
}

impl<'de, A: MapAccess<'de>> de::VariantAccess<'de> for OneEntry<'_, A> {
    type Error = A::Error;
    fn unit_variant(self) -> Result<(), A::Error> {
        self.map.next_value::<()>()
    }
    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
    fn tuple_variant<V: Visitor<'de>>(self, len: usize, v: V) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(Fields {
            fields: None,
            len,
            v,
        })
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(Fields {
            fields: Some(fields),
            len: 0,
            v,
        })
    }
}

/// A variant's value, read as a struct (with its field names) or a tuple.
struct Fields<V> {
    fields: Option<&'static [&'static str]>,
    len: usize,
    v: V,
}

impl<'de, V: Visitor<'de>> DeserializeSeed<'de> for Fields<V> {
    type Value = V::Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        match self.fields {
            Some(f) => d.deserialize_struct("", f, self.v),
            None => d.deserialize_tuple(self.len, self.v),
        }
    }
}

/// The bare-name form: a variant without fields (`constant`).
struct BareName<'a, E> {
    name: &'a str,
    _e: PhantomData<E>,
}

impl<'de, E: de::Error> de::Deserializer<'de> for BareName<'_, E> {
    type Error = E;
    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, E> {
        v.visit_str(self.name)
    }
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, E> {
        v.visit_enum(self)
    }
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map struct
        identifier ignored_any
    }
}

impl<'de, E: de::Error> de::EnumAccess<'de> for BareName<'_, E> {
    type Error = E;
    type Variant = Self;
    fn variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<(S::Value, Self), E> {
        let d: de::value::StrDeserializer<'_, E> = self.name.into_deserializer();
        seed.deserialize(d).map(|v| (v, self))
    }
}

impl<'de, E: de::Error> de::VariantAccess<'de> for BareName<'_, E> {
    type Error = E;
    fn unit_variant(self) -> Result<(), E> {
        Ok(())
    }
    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, _: S) -> Result<S::Value, E> {
        Err(self.needs("a value"))
    }
    fn tuple_variant<V: Visitor<'de>>(self, _: usize, _: V) -> Result<V::Value, E> {
        Err(self.needs("a list of values"))
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, E> {
        let fields = fields
            .iter()
            .map(|f| format!("{f}: ..."))
            .collect::<Vec<_>>()
            .join(", ");
        Err(self.needs(&format!("{{ {fields} }}")))
    }
}

impl<E: de::Error> BareName<'_, E> {
    fn needs(&self, what: &str) -> E {
        let name = self.name;
        de_error(
            &format!("`{name}` needs its parameters"),
            &format!("`{name}: {what}`"),
            &format!("`{name}` alone"),
        )
    }
}
