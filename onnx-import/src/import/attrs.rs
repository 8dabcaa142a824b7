//! Typed access to a node's attributes. Every attribute an op reads is marked; an attribute the op
//! never read is an unsupported attribute and is reported, so nothing is silently ignored.

use super::proto::onnx::{attribute_proto::AttributeType, AttributeProto, NodeProto};
use super::proto::tensor_from_proto;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use std::cell::RefCell;
use std::collections::BTreeSet;

pub struct Attrs<'a> {
    node: &'a NodeProto,
    used: RefCell<BTreeSet<String>>,
}

impl<'a> Attrs<'a> {
    pub fn new(node: &'a NodeProto) -> Self {
        Attrs { node, used: RefCell::new(BTreeSet::new()) }
    }

    fn op(&self) -> &str {
        self.node.op_type.as_deref().unwrap_or("")
    }
    fn name(&self) -> &str {
        self.node.name.as_deref().unwrap_or("")
    }

    fn get(&self, key: &str) -> Option<&'a AttributeProto> {
        self.used.borrow_mut().insert(key.to_string());
        self.node.attribute.iter().find(|a| a.name.as_deref() == Some(key))
    }

    fn wrong(&self, key: &str, want: &str) -> Error {
        Error::invalid(self.op(), self.name(), format!("attribute `{key}` must be {want}"))
    }

    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub fn int(&self, key: &str) -> Result<Option<i64>> {
        match self.get(key) {
            None => Ok(None),
            Some(a) if a.r#type == Some(AttributeType::Int as i32) || a.i.is_some() => Ok(a.i),
            Some(_) => Err(self.wrong(key, "an int")),
        }
    }
    pub fn int_or(&self, key: &str, d: i64) -> Result<i64> {
        Ok(self.int(key)?.unwrap_or(d))
    }
    pub fn float(&self, key: &str) -> Result<Option<f32>> {
        match self.get(key) {
            None => Ok(None),
            Some(a) => a.f.map(Some).ok_or_else(|| self.wrong(key, "a float")),
        }
    }
    pub fn float_or(&self, key: &str, d: f32) -> Result<f32> {
        match self.get(key) {
            None => Ok(d),
            Some(a) => a.f.ok_or_else(|| self.wrong(key, "a float")),
        }
    }
    pub fn ints(&self, key: &str) -> Result<Option<Vec<i64>>> {
        match self.get(key) {
            None => Ok(None),
            Some(a) if a.r#type == Some(AttributeType::Ints as i32) || !a.ints.is_empty() => Ok(Some(a.ints.clone())),
            Some(_) => Err(self.wrong(key, "a list of ints")),
        }
    }
    pub fn floats(&self, key: &str) -> Result<Option<Vec<f32>>> {
        Ok(self.get(key).map(|a| a.floats.clone()))
    }
    pub fn strings(&self, key: &str) -> Result<Option<Vec<String>>> {
        Ok(self.get(key).map(|a| a.strings.iter().map(|b| String::from_utf8_lossy(b).into_owned()).collect()))
    }
    pub fn string(&self, key: &str) -> Result<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            Some(a) => {
                let s = a.s.as_ref().ok_or_else(|| self.wrong(key, "a string"))?;
                Ok(Some(String::from_utf8_lossy(s).into_owned()))
            }
        }
    }
    pub fn tensor(&self, key: &str) -> Result<Option<Tensor>> {
        match self.get(key) {
            None => Ok(None),
            Some(a) => Ok(Some(tensor_from_proto(a.t.as_ref().ok_or_else(|| self.wrong(key, "a tensor"))?)?)),
        }
    }

    /// Error on any attribute the op did not read.
    pub fn finish(&self) -> Result<()> {
        let used = self.used.borrow();
        for a in &self.node.attribute {
            let n = a.name.as_deref().unwrap_or("");
            if !used.contains(n) {
                return Err(Error::unsupported(self.op(), self.name(), format!("attribute `{n}` is not supported")));
            }
        }
        Ok(())
    }
}
