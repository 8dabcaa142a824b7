//! Public values and the instance column.
//!
//! A proof's **public values** are what users see and pass around (`proof.json`'s `instances`,
//! the `uint256[] instances` of `verifyProof`): in order, every public input value, every public
//! param (or one Poseidon hash of all params when hashed), every public output value (or one hash
//! per hashed tensor), then the binding; negative values are `p − |v|`.
//!
//! The circuit's **instance column** holds the same values packed: each public tensor whose
//! values lie in the lookup range `[lo, hi]` is split in chunks of `⌊252/w⌋` values
//! (`w` = bits of `hi − lo`), and each chunk becomes one field element
//! `Σ_j (v_j − lo)·2^{w·(n−1−j)}` (first value most significant). Hashes, the binding and params
//! outside the range stay one value per instance. The circuit range-checks every packed value,
//! so the map from values to instances is injective; verifiers (native and the Solidity wrapper)
//! check `lo ≤ v ≤ hi` for packed values before packing. Packing cuts the instance count (and
//! the EVM verifier's size and gas) by up to `⌊252/w⌋`×.

use crate::field::fr;
use crate::model::{params_packable, Visibilities};
use crate::poseidon::{pack_width, per_element};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::PrimeField;
use serde::{Deserialize, Serialize};
use zkinfer_onnx::quant::QGraph;
use zkinfer_onnx::settings::Visibility;

/// What a run of public values is. Indices count model inputs, params and outputs in graph order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The values of public model input `i`.
    Input(usize),
    /// The Poseidon hash of hashed model input `i`.
    InputHash(usize),
    /// The values of public param tensor `i`.
    Param(usize),
    /// The Poseidon hash of all params (hashed params).
    ParamsHash,
    /// The values of public model output `i`.
    Output(usize),
    /// The Poseidon hash of hashed model output `i`.
    OutputHash(usize),
    /// The binding value (request / operator), always last.
    Binding,
}

impl Role {
    /// Its code in the model commitment's encoding (README, "Model commitment").
    pub fn code(&self) -> (u8, u32) {
        match *self {
            Role::Input(i) => (0, i as u32),
            Role::InputHash(i) => (1, i as u32),
            Role::Param(i) => (2, i as u32),
            Role::ParamsHash => (3, 0),
            Role::Output(i) => (4, i as u32),
            Role::OutputHash(i) => (5, i as u32),
            Role::Binding => (6, 0),
        }
    }
    /// A single field element (hash or binding) rather than tensor values.
    pub fn is_single(&self) -> bool {
        matches!(self, Role::InputHash(_) | Role::ParamsHash | Role::OutputHash(_) | Role::Binding)
    }
}

/// A run of consecutive public values with one role: packed (chunks of `per_element` values per
/// instance) or one value per instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    pub role: Role,
    pub len: usize,
    pub packed: bool,
}

/// How public values map onto the instance column (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstancePacking {
    /// The range packed values must lie in (the lookup range).
    pub lo: i64,
    pub hi: i64,
    /// Bits per packed value and values per instance.
    pub width: u32,
    pub per_element: usize,
    pub segments: Vec<Segment>,
}

/// What went wrong when packing public values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackError {
    #[error("{got} public values given, the model has {expected}")]
    Count { got: usize, expected: usize },
    #[error("public value #{index} is outside the packed range [{lo}, {hi}]")]
    OutOfRange { index: usize, lo: i64, hi: i64 },
}

impl Segment {
    /// Instances this segment occupies.
    pub fn instances(&self, per_element: usize) -> usize {
        if self.packed {
            self.len.div_ceil(per_element)
        } else {
            self.len
        }
    }
}

impl InstancePacking {
    /// The packing of a graph's public values under `vis`, segment by segment in the order of
    /// the module docs.
    pub fn new(g: &QGraph, vis: &Visibilities) -> InstancePacking {
        let (lo, hi) = g.params.lookup_range;
        let width = pack_width(lo, hi);
        let numel = |id: usize| g.values[id].shape.iter().product::<usize>();
        let mut segments = Vec::new();
        type Roles = (fn(usize) -> Role, fn(usize) -> Role);
        let tensors = |v: Visibility, sizes: Vec<usize>, packable: bool, (values, hash): Roles, segments: &mut Vec<Segment>| match v {
            Visibility::Public => segments.extend(sizes.into_iter().enumerate().map(|(i, len)| Segment { role: values(i), len, packed: packable })),
            Visibility::Hashed => segments.extend((0..sizes.len()).map(|i| Segment { role: hash(i), len: 1, packed: false })),
            _ => {}
        };
        tensors(vis.input, g.inputs.iter().map(|&i| numel(i)).collect(), true, (Role::Input, Role::InputHash), &mut segments);
        if vis.param == Visibility::Hashed {
            segments.push(Segment { role: Role::ParamsHash, len: 1, packed: false });
        } else {
            tensors(vis.param, g.consts.iter().map(|c| c.data.len()).collect(), params_packable(g), (Role::Param, |_| Role::ParamsHash), &mut segments);
        }
        tensors(vis.output, g.outputs.iter().map(|&i| numel(i)).collect(), true, (Role::Output, Role::OutputHash), &mut segments);
        segments.push(Segment { role: Role::Binding, len: 1, packed: false });
        InstancePacking { lo, hi, width, per_element: per_element(width), segments }
    }

    /// Number of public values.
    pub fn num_values(&self) -> usize {
        self.segments.iter().map(|s| s.len).sum()
    }

    /// Number of instances (the instance column's length).
    pub fn num_instances(&self) -> usize {
        self.segments.iter().map(|s| s.instances(self.per_element)).sum()
    }

    /// The public values of the first segment with `role` (a range of value indices).
    pub fn values_of(&self, role: Role) -> Option<std::ops::Range<usize>> {
        let mut at = 0;
        for s in &self.segments {
            if s.role == role {
                return Some(at..at + s.len);
            }
            at += s.len;
        }
        None
    }

    /// Index of the params' Poseidon hash among the public values (hashed params only).
    pub fn params_hash_value(&self) -> Option<usize> {
        self.values_of(Role::ParamsHash).map(|r| r.start)
    }

    /// Index of the binding among the public values (the last one).
    pub fn binding_value(&self) -> usize {
        self.num_values() - 1
    }

    /// Check the packing is well formed, so that reading it cannot misplace a value: a positive
    /// range whose width and chunk size follow from it, hashes and the binding one unpacked value
    /// each, no role twice, exactly one binding and it comes last.
    pub fn validate(&self) -> Result<(), String> {
        if self.lo > self.hi || self.width != pack_width(self.lo, self.hi) || self.per_element != per_element(self.width) {
            return Err(format!("inconsistent packing range [{}, {}] / width {} / {} per element", self.lo, self.hi, self.width, self.per_element));
        }
        for (i, s) in self.segments.iter().enumerate() {
            if s.len == 0 || (s.role.is_single() && (s.len != 1 || s.packed)) {
                return Err(format!("malformed public-value segment {i}: {s:?}"));
            }
            if self.segments[..i].iter().any(|t| t.role == s.role) {
                return Err(format!("public-value role {:?} appears twice", s.role));
            }
            if (s.role == Role::Binding) != (i + 1 == self.segments.len()) {
                return Err("the binding must be the last public value, exactly once".into());
            }
        }
        if self.segments.is_empty() {
            return Err("no public values (the binding is always one)".into());
        }
        Ok(())
    }

    /// First instance of each segment.
    pub fn instance_starts(&self) -> Vec<usize> {
        let mut at = 0;
        self.segments
            .iter()
            .map(|s| {
                at += s.instances(self.per_element);
                at - s.instances(self.per_element)
            })
            .collect()
    }

    /// Pack public values into instances; packed values must lie in `[lo, hi]`.
    pub fn pack(&self, values: &[Fr]) -> Result<Vec<Fr>, PackError> {
        if values.len() != self.num_values() {
            return Err(PackError::Count { got: values.len(), expected: self.num_values() });
        }
        let shift = Fr::from_u128(1u128 << self.width);
        let mut out = Vec::with_capacity(self.num_instances());
        let mut at = 0;
        for s in &self.segments {
            let vals = &values[at..at + s.len];
            if s.packed {
                for (c, chunk) in vals.chunks(self.per_element).enumerate() {
                    let mut acc = Fr::zero();
                    for (j, v) in chunk.iter().enumerate() {
                        let index = at + c * self.per_element + j;
                        let d = self.slot(v).ok_or(PackError::OutOfRange { index, lo: self.lo, hi: self.hi })?;
                        acc = acc * shift + Fr::from(d);
                    }
                    out.push(acc);
                }
            } else {
                out.extend_from_slice(vals);
            }
            at += s.len;
        }
        Ok(out)
    }

    /// The integer a packed public value stands for, when it lies in `[lo, hi]`.
    pub fn unpack_value(&self, v: &Fr) -> Option<i64> {
        self.slot(v).map(|d| self.lo + d as i64)
    }

    /// `v − lo` when the field element `v` is an integer in `[lo, hi]`.
    fn slot(&self, v: &Fr) -> Option<u64> {
        let d = *v - fr(self.lo);
        let repr = d.to_repr();
        let bytes = repr.as_ref();
        if bytes[8..].iter().any(|&b| b != 0) {
            return None;
        }
        let d = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
        (d <= (self.hi - self.lo) as u64).then_some(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packing(segments: Vec<(Role, usize, bool)>) -> InstancePacking {
        let segments = segments.into_iter().map(|(role, len, packed)| Segment { role, len, packed }).collect();
        let (lo, hi) = (-8, 7);
        let width = pack_width(lo, hi);
        InstancePacking { lo, hi, width, per_element: per_element(width), segments }
    }

    #[test]
    fn packs_like_the_poseidon_packing_and_checks_the_range() {
        let p = packing(vec![(Role::Output(0), 70, true), (Role::Binding, 1, false)]);
        p.validate().unwrap();
        assert_eq!((p.width, p.per_element), (4, 63));
        let ints: Vec<i64> = (0..70).map(|i| (i % 16) - 8).collect();
        let mut vals: Vec<Fr> = ints.iter().map(|&v| fr(v)).collect();
        vals.push(fr(123456789));
        let packed = p.pack(&vals).unwrap();
        let mut expected = crate::poseidon::pack(&ints, -8, 7);
        expected.push(fr(123456789));
        assert_eq!(packed, expected);
        assert_eq!(p.num_instances(), 3);
        vals[5] = fr(8);
        assert_eq!(p.pack(&vals), Err(PackError::OutOfRange { index: 5, lo: -8, hi: 7 }));
        vals[5] = fr(-9);
        assert!(p.pack(&vals).is_err());
        assert_eq!(p.pack(&vals[..3]), Err(PackError::Count { got: 3, expected: 71 }));
        assert_eq!((p.values_of(Role::Output(0)), p.binding_value(), p.params_hash_value()), (Some(0..70), 70, None));
        assert_eq!((p.unpack_value(&fr(-3)), p.unpack_value(&fr(7)), p.unpack_value(&fr(8)), p.unpack_value(&fr(-9))), (Some(-3), Some(7), None, None));
    }

    #[test]
    fn malformed_packings_are_refused() {
        let ok = packing(vec![(Role::ParamsHash, 1, false), (Role::Output(0), 3, true), (Role::Binding, 1, false)]);
        ok.validate().unwrap();
        assert_eq!(ok.params_hash_value(), Some(0));
        for bad in [
            vec![(Role::Output(0), 3, true), (Role::Binding, 1, false), (Role::ParamsHash, 1, false)],
            vec![(Role::Output(0), 3, true)],
            vec![(Role::ParamsHash, 2, false), (Role::Binding, 1, false)],
            vec![(Role::Output(0), 3, true), (Role::Output(0), 3, true), (Role::Binding, 1, false)],
            vec![(Role::Binding, 1, false), (Role::Binding, 1, false)],
        ] {
            assert!(packing(bad.clone()).validate().is_err(), "{bad:?}");
        }
        let mut p = ok.clone();
        p.width += 1;
        assert!(p.validate().is_err());
    }
}
