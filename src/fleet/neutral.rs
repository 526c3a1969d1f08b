//! A tenant's catalog written without its schema's name, to tell which tenants hold the same objects:
//! tenants with equal fingerprints are compared with the declared schema once, for all of them.
//!
//! The catalog is serialized (every field, through serde) into bytes, with the tenant's name replaced
//! by the template's: exactly, where a value is a schema's name (a `schema` field, a `Schema(…)` target
//! or owner); in every other text, by `map_text`, which replaces it where the text names it as a
//! schema (the dialect's token-by-token mapping, [`crate::dialect::for_tenant`]). A name that merely
//! equals the tenant's (a column called `tenant_a`) stays as it is, so such tenants differ.

use serde::ser::{self, Serialize};

/// The bytes of `value` with `tenant` written as `template` (see the module's documentation).
pub fn fingerprint<T: Serialize>(
    value: &T,
    tenant: &str,
    template: &str,
    map_text: &dyn Fn(&str) -> String,
) -> Vec<u8> {
    let mut neutral = Neutral { out: Vec::new(), tenant, template, map_text, schema_next: false };
    // Only an error of the model's own Serialize implementations could stop it; then the bytes so far
    // still differ from those of another catalog, so at worst two tenants are compared apart.
    let _ = value.serialize(&mut neutral);
    neutral.out
}

struct Neutral<'a> {
    out: Vec<u8>,
    tenant: &'a str,
    template: &'a str,
    map_text: &'a dyn Fn(&str) -> String,
    /// The next string is a schema's name.
    schema_next: bool,
}

impl Neutral<'_> {
    fn tag(&mut self, tag: u8) {
        self.out.push(tag);
    }

    fn bytes(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        self.out.extend_from_slice(bytes);
    }

    fn name(&mut self, name: &str) {
        self.bytes(name.as_bytes());
    }
}

#[derive(Debug)]
pub struct Error(String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<M: std::fmt::Display>(message: M) -> Self {
        Error(message.to_string())
    }
}

type Done = Result<(), Error>;

impl ser::Serializer for &mut Neutral<'_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    fn serialize_bool(self, v: bool) -> Done {
        self.tag(b'b');
        self.out.push(u8::from(v));
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Done {
        self.serialize_i128(v.into())
    }
    fn serialize_i16(self, v: i16) -> Done {
        self.serialize_i128(v.into())
    }
    fn serialize_i32(self, v: i32) -> Done {
        self.serialize_i128(v.into())
    }
    fn serialize_i64(self, v: i64) -> Done {
        self.serialize_i128(v.into())
    }
    fn serialize_i128(self, v: i128) -> Done {
        self.tag(b'i');
        self.out.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> Done {
        self.serialize_i128(v.into())
    }
    fn serialize_u16(self, v: u16) -> Done {
        self.serialize_i128(v.into())
    }
    fn serialize_u32(self, v: u32) -> Done {
        self.serialize_i128(v.into())
    }
    fn serialize_u64(self, v: u64) -> Done {
        self.serialize_i128(v.into())
    }
    fn serialize_f32(self, v: f32) -> Done {
        self.serialize_f64(v.into())
    }
    fn serialize_f64(self, v: f64) -> Done {
        self.tag(b'f');
        self.out.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }
    fn serialize_char(self, v: char) -> Done {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Done {
        self.tag(b's');
        let schema = std::mem::take(&mut self.schema_next);
        if schema && v == self.tenant {
            self.name(self.template);
        } else if !schema && v.contains(self.tenant) {
            let mapped = (self.map_text)(v);
            self.name(&mapped);
        } else {
            self.name(v);
        }
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Done {
        self.tag(b'y');
        self.bytes(v);
        Ok(())
    }
    fn serialize_none(self) -> Done {
        self.tag(b'n');
        Ok(())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Done {
        self.tag(b'S');
        value.serialize(self)
    }
    fn serialize_unit(self) -> Done {
        self.tag(b'u');
        Ok(())
    }
    fn serialize_unit_struct(self, name: &'static str) -> Done {
        self.tag(b'U');
        self.name(name);
        Ok(())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Done {
        self.tag(b'v');
        self.name(variant);
        Ok(())
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _: &'static str, value: &T) -> Done {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Done {
        self.tag(b'V');
        self.name(variant);
        // `PrivilegeTarget::Schema(name)`, `OwnedObject::Schema(name)`.
        self.schema_next = variant == "Schema";
        value.serialize(&mut *self)?;
        self.schema_next = false;
        Ok(())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self, Error> {
        self.tag(b'[');
        Ok(self)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self, Error> {
        self.tag(b'[');
        Ok(self)
    }
    fn serialize_tuple_struct(self, name: &'static str, _: usize) -> Result<Self, Error> {
        self.tag(b'[');
        self.name(name);
        Ok(self)
    }
    fn serialize_tuple_variant(self, _: &'static str, _: u32, variant: &'static str, _: usize) -> Result<Self, Error> {
        self.tag(b'[');
        self.name(variant);
        Ok(self)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self, Error> {
        self.tag(b'{');
        Ok(self)
    }
    fn serialize_struct(self, name: &'static str, _: usize) -> Result<Self, Error> {
        self.tag(b'(');
        self.name(name);
        Ok(self)
    }
    fn serialize_struct_variant(self, _: &'static str, _: u32, variant: &'static str, _: usize) -> Result<Self, Error> {
        self.tag(b'(');
        self.name(variant);
        Ok(self)
    }
}

/// Items of sequences, tuples and maps, then the end.
macro_rules! items {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for &mut Neutral<'_> {
            type Ok = ();
            type Error = Error;
            fn $method<T: ?Sized + Serialize>(&mut self, value: &T) -> Done {
                value.serialize(&mut **self)
            }
            fn end(self) -> Done {
                self.tag(b']');
                Ok(())
            }
        }
    )*};
}

items!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for &mut Neutral<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Done {
        key.serialize(&mut **self)
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Done {
        value.serialize(&mut **self)
    }
    fn end(self) -> Done {
        self.tag(b'}');
        Ok(())
    }
}

/// A struct's fields by name; a field called `schema` holds a schema's name.
macro_rules! fields {
    ($($trait:ident),*) => {$(
        impl ser::$trait for &mut Neutral<'_> {
            type Ok = ();
            type Error = Error;
            fn serialize_field<T: ?Sized + Serialize>(&mut self, key: &'static str, value: &T) -> Done {
                self.name(key);
                self.schema_next = key == "schema";
                value.serialize(&mut **self)?;
                self.schema_next = false;
                Ok(())
            }
            fn skip_field(&mut self, key: &'static str) -> Done {
                self.tag(b'-');
                self.name(key);
                Ok(())
            }
            fn end(self) -> Done {
                self.tag(b')');
                Ok(())
            }
        }
    )*};
}

fields!(SerializeStruct, SerializeStructVariant);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::QualifiedName;

    #[derive(serde::Serialize)]
    struct Thing {
        name: QualifiedName,
        column: String,
        definition: String,
    }

    fn print(schema: &str, column: &str, definition: &str) -> Vec<u8> {
        let thing =
            Thing { name: QualifiedName::new(schema, "t"), column: column.into(), definition: definition.into() };
        let map = |text: &str| text.replace(&format!("{schema}."), "public.");
        fingerprint(&thing, schema, "public", &map)
    }

    #[test]
    fn tenants_holding_the_same_objects_print_alike_and_others_do_not() {
        let a = print("tenant_a", "id", "REFERENCES tenant_a.u(id)");
        assert_eq!(a, print("tenant_b", "id", "REFERENCES tenant_b.u(id)"));
        assert_ne!(a, print("tenant_b", "id", "REFERENCES tenant_b.v(id)"));
        // A column named like its tenant is not a schema's name.
        assert_ne!(print("tenant_a", "tenant_a", "x"), print("tenant_b", "tenant_b", "x"));
    }
}
