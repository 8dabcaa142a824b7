//! From a model's [`Statement`] (what its model commitment binds) to what the market contracts
//! take: the registry's public-value layout, and a proof's public values split into the
//! request's input segment and the fulfilment's output segment.

use crate::bindings::ModelRegistry;
use crate::{MarketError, Result};
use alloy::primitives::{FixedBytes, U256};
use halo2_proofs::halo2curves::bn256::Fr;
use zkinfer_circuits::{InstancePacking, Role};
use zkinfer_onnx::settings::Visibility;
use zkinfer_prover::statement::visibility_code;
use zkinfer_prover::Statement;

/// A `uint256` as a field element; values at or above the modulus are refused.
pub fn field(v: &U256) -> Result<Fr> {
    use halo2_proofs::halo2curves::ff::PrimeField;
    Option::from(Fr::from_repr(v.to_le_bytes::<32>())).ok_or_else(|| MarketError::Format(format!("{v} is not below the BN254 scalar field modulus")))
}

/// A field element as a `uint256`.
pub fn word(f: &Fr) -> U256 {
    use halo2_proofs::halo2curves::ff::PrimeField;
    U256::from_le_slice(f.to_repr().as_ref())
}

/// The registry layout of a model: visibilities, the sizes of the input and output segments,
/// the output scale, the params hash and the tournament `encoding` (zero when none). Refuses
/// what the market cannot settle: private tensors, public params, outputs of several scales.
pub fn layout_for(st: &Statement, encoding: FixedBytes<32>) -> Result<ModelRegistry::Layout> {
    let v = st.visibility;
    if [v.input, v.param, v.output].contains(&Visibility::Private) {
        return Err(MarketError::Format("the market refuses private inputs, params or outputs: a proof of them shows nothing about this model or request".into()));
    }
    if v.param == Visibility::Public {
        return Err(MarketError::Format("the market takes fixed or hashed params, not public ones".into()));
    }
    let count = |f: fn(&Role) -> bool| st.packing.segments.iter().filter(|s| f(&s.role)).map(|s| s.len as u32).sum::<u32>();
    let scale = match st.output_scales.as_slice() {
        [s, rest @ ..] if rest.iter().all(|r| r == s) => *s,
        _ => return Err(MarketError::Format("the market needs the outputs to share one fixed-point scale".into())),
    };
    Ok(ModelRegistry::Layout {
        input: visibility_code(v.input),
        param: visibility_code(v.param),
        output: visibility_code(v.output),
        inputValues: count(|r| matches!(r, Role::Input(_) | Role::InputHash(_))),
        outputValues: count(|r| matches!(r, Role::Output(_) | Role::OutputHash(_))),
        outputScale: scale,
        paramsHash: st.params_hash_fr().map(|h| word(&h)).unwrap_or_default(),
        encoding,
    })
}

/// A proof's public values split into the input segment (what a request carries) and the
/// output segment (what a fulfilment claims).
pub fn split_public_values(st: &Statement, values: &[Fr]) -> Result<(Vec<U256>, Vec<U256>)> {
    split_packed(&st.packing, values)
}

/// [`split_public_values`] by the packing alone.
pub fn split_packed(p: &InstancePacking, values: &[Fr]) -> Result<(Vec<U256>, Vec<U256>)> {
    if values.len() != p.num_values() {
        return Err(MarketError::Format(format!("{} public values, the model has {}", values.len(), p.num_values())));
    }
    let (mut ins, mut outs) = (vec![], vec![]);
    let mut at = 0;
    for s in &p.segments {
        let seg = values[at..at + s.len].iter().map(word);
        match s.role {
            Role::Input(_) | Role::InputHash(_) => ins.extend(seg),
            Role::Output(_) | Role::OutputHash(_) => outs.extend(seg),
            _ => {}
        }
        at += s.len;
    }
    Ok((ins, outs))
}
