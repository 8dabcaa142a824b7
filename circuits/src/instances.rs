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

/// A run of consecutive public values: packed (chunks of `per_element` values per instance) or
/// one value per instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
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
        let tensors = |v: Visibility, sizes: Vec<usize>, packable: bool, segments: &mut Vec<Segment>| match v {
            Visibility::Public => segments.extend(sizes.into_iter().map(|len| Segment { len, packed: packable })),
            Visibility::Hashed => segments.extend(sizes.into_iter().map(|_| Segment { len: 1, packed: false })),
            _ => {}
        };
        tensors(vis.input, g.inputs.iter().map(|&i| numel(i)).collect(), true, &mut segments);
        if vis.param == Visibility::Hashed {
            segments.push(Segment { len: 1, packed: false });
        } else {
            tensors(vis.param, g.consts.iter().map(|c| c.data.len()).collect(), params_packable(g), &mut segments);
        }
        tensors(vis.output, g.outputs.iter().map(|&i| numel(i)).collect(), true, &mut segments);
        segments.push(Segment { len: 1, packed: false });
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

    /// The public value held alone by `instance` (an unpacked segment), if any.
    pub fn value_index(&self, instance: usize) -> Option<usize> {
        let (mut v, mut i) = (0, 0);
        for s in &self.segments {
            let n = s.instances(self.per_element);
            if instance < i + n {
                return (!s.packed).then_some(v + instance - i);
            }
            v += s.len;
            i += n;
        }
        None
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

    fn packing(segments: Vec<Segment>) -> InstancePacking {
        let (lo, hi) = (-8, 7);
        let width = pack_width(lo, hi);
        InstancePacking { lo, hi, width, per_element: per_element(width), segments }
    }

    #[test]
    fn packs_like_the_poseidon_packing_and_checks_the_range() {
        let p = packing(vec![Segment { len: 70, packed: true }, Segment { len: 1, packed: false }]);
        assert_eq!((p.width, p.per_element), (4, 63));
        let ints: Vec<i64> = (0..70).map(|i| (i % 16) - 8).collect();
        let mut vals: Vec<Fr> = ints.iter().map(|&v| fr(v)).collect();
        vals.push(fr(123456789));
        let packed = p.pack(&vals).unwrap();
        let mut expected = crate::poseidon::pack(&ints, -8, 7);
        expected.push(fr(123456789));
        assert_eq!(packed, expected);
        assert_eq!(p.num_instances(), 3);
        assert_eq!((p.value_index(0), p.value_index(1), p.value_index(2), p.value_index(3)), (None, None, Some(70), None));
        vals[5] = fr(8);
        assert_eq!(p.pack(&vals), Err(PackError::OutOfRange { index: 5, lo: -8, hi: 7 }));
        vals[5] = fr(-9);
        assert!(p.pack(&vals).is_err());
        assert_eq!(p.pack(&vals[..3]), Err(PackError::Count { got: 3, expected: 71 }));
    }
}
