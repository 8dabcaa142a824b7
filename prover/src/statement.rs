//! What a verifying party trusts, and the model commitment that binds it.
//!
//! A halo2 verifying key alone does not say how to read a proof's public values: which of them
//! are inputs, outputs, hashes or the binding, how they are packed into the instance column, at
//! which fixed-point scale outputs are meant, or which params hash a `hashed`-params proof must
//! carry. A verifier that took any of this from an unbound file header could be talked into
//! reading a valid proof as a claim it does not make (shifted packing ranges, the params hash
//! looked up at the binding's position, …). The [`Statement`] collects all of it, and the
//! [`model_commitment`] hashes the verifying key together with the statement, so the commitment
//! printed by `setup`, registered on-chain and checked by every verifier (native, from the
//! verifier artifact, the Solidity wrapper) covers every input of verification.
//!
//! **Commitment** (README, "Model commitment"):
//!
//! ```text
//! keccak256( "zkinfer/model-commitment/v1"        ASCII, 27 bytes
//!          ‖ keccak256(vk_bytes)                  halo2 SerdeFormat::RawBytes
//!          ‖ transcript_repr                      32 bytes big-endian: halo2's hash of the pinned
//!                                                 key, incl. the constraint system
//!          ‖ keccak256(statement_bytes) )
//! ```
//!
//! `statement_bytes` ([`Statement::encode`]), integers big-endian:
//! `u32 lanes ‖ u8 poseidon ‖ u8 vis_input ‖ u8 vis_param ‖ u8 vis_output` (public 0, private 1,
//! hashed 2, fixed 3) `‖ u32 n ‖ n × u32 input scale ‖ u32 m ‖ m × u32 output scale ‖ i64 lo ‖
//! i64 hi ‖ u32 width ‖ u32 per_element ‖ u32 segments ‖` per segment `u8 role ‖ u32 index ‖
//! u32 len ‖ u8 packed` (roles: input 0, input hash 1, param 2, params hash 3, output 4, output
//! hash 5, binding 6) `‖ u8 has_params_hash ‖ [32-byte params hash]`, and for circuits with
//! limbs (settings `range_bits = k > 0`) `‖ "limbs" ‖ u32 k`, and for circuits with advice
//! weight columns on fewer lanes than `lanes` (`advice_weight_lanes = w > 0`) `‖ "wlanes" ‖ u32 w`,
//! and for circuits with dot groups (settings `dot_groups = G > 1`) `‖ "groups" ‖ u32 G`.

use crate::error::{ProverError, Result};
use crate::VerifyingKey;
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::PrimeField;
use halo2_proofs::SerdeFormat;
use serde::{Deserialize, Serialize};
use sha3::{Digest, Keccak256};
use zkinfer_circuits::{CircuitParams, InstancePacking, ModelCircuit, Role};
use zkinfer_onnx::artifacts::CompiledModel;
use zkinfer_onnx::settings::Visibility;

/// Domain separator of the model commitment.
pub const COMMITMENT_DOMAIN: &[u8] = b"zkinfer/model-commitment/v1";

/// Visibilities of the model's inputs, params and outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementVisibility {
    pub input: Visibility,
    pub param: Visibility,
    pub output: Visibility,
}

/// Everything a verifier reads besides the proof and the verifying key; bound by the model
/// commitment (module docs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    /// Shape of the circuit's configuration (halo2 `Circuit::Params`): it decides the
    /// constraint system the verifying key is read with.
    pub circuit: CircuitParams,
    pub visibility: StatementVisibility,
    /// Fixed-point scale of each model input and output (value ≈ integer / 2^scale).
    pub input_scales: Vec<u32>,
    pub output_scales: Vec<u32>,
    /// Which public value is what, and how they are packed into instances.
    pub packing: InstancePacking,
    /// With hashed params: the Poseidon hash of the params every proof must carry (0x-hex).
    pub params_hash: Option<String>,
}

/// A visibility's code in the statement encoding (also `ModelRegistry.Visibility`).
pub fn visibility_code(v: Visibility) -> u8 {
    match v {
        Visibility::Public => 0,
        Visibility::Private => 1,
        Visibility::Hashed => 2,
        Visibility::Fixed => 3,
    }
}

fn bad(msg: String) -> ProverError {
    ProverError::Format(format!("inconsistent statement: {msg}"))
}

impl Statement {
    /// The statement of a compiled model's circuit.
    pub fn of(c: &CompiledModel, circuit: &ModelCircuit) -> Statement {
        let ra = &c.settings.run_args;
        Statement {
            circuit: circuit.circuit_params(),
            visibility: StatementVisibility { input: ra.input_visibility, param: ra.param_visibility, output: ra.output_visibility },
            input_scales: c.graph.input_scales(),
            output_scales: c.graph.output_scales(),
            packing: InstancePacking::new(&c.graph, &circuit.vis),
            params_hash: crate::keys::params_hash(c).map(|h| crate::artifacts::fr_to_hex(&h)),
        }
    }

    /// The canonical bytes hashed into the model commitment (module docs).
    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::new();
        let u32be = |b: &mut Vec<u8>, x: usize| b.extend_from_slice(&(x as u32).to_be_bytes());
        u32be(&mut b, self.circuit.lanes);
        b.push(self.circuit.poseidon as u8);
        b.extend([visibility_code(self.visibility.input), visibility_code(self.visibility.param), visibility_code(self.visibility.output)]);
        for scales in [&self.input_scales, &self.output_scales] {
            u32be(&mut b, scales.len());
            scales.iter().for_each(|&s| u32be(&mut b, s as usize));
        }
        let p = &self.packing;
        b.extend_from_slice(&p.lo.to_be_bytes());
        b.extend_from_slice(&p.hi.to_be_bytes());
        u32be(&mut b, p.width as usize);
        u32be(&mut b, p.per_element);
        u32be(&mut b, p.segments.len());
        for s in &p.segments {
            let (role, index) = s.role.code();
            b.push(role);
            b.extend_from_slice(&index.to_be_bytes());
            u32be(&mut b, s.len);
            b.push(s.packed as u8);
        }
        match self.params_hash_fr() {
            Some(h) => {
                b.push(1);
                b.extend_from_slice(&fr_be(&h));
            }
            None => b.push(0),
        }
        // Circuits with limbs append their limb width (absent for the others, whose encoding
        // predates limbs and stays unchanged).
        if self.circuit.range_bits != 0 {
            b.extend_from_slice(b"limbs");
            u32be(&mut b, self.circuit.range_bits as usize);
        }
        // Circuits with fewer advice weight columns than lanes append that count (absent when
        // every lane has one, as before).
        if self.circuit.advice_weight_lanes != 0 {
            b.extend_from_slice(b"wlanes");
            u32be(&mut b, self.circuit.advice_weight_lanes);
        }
        // Circuits with dot groups append their accumulator count (absent without).
        if self.circuit.dot_groups > 1 {
            b.extend_from_slice(b"groups");
            u32be(&mut b, self.circuit.dot_groups);
        }
        b
    }

    /// The expected params hash as a field element (hashed params).
    pub fn params_hash_fr(&self) -> Option<Fr> {
        self.params_hash.as_deref().and_then(|h| crate::artifacts::fr_from_hex(h).ok())
    }

    /// Check the statement is internally consistent, so that no part of it can be read two ways:
    /// a well-formed packing whose segments are exactly those the visibilities call for, one
    /// scale per tensor that has a segment, a params hash exactly when params are hashed, and
    /// Poseidon gates exactly when something is hashed.
    pub fn validate(&self) -> Result<()> {
        let p = &self.packing;
        p.validate().map_err(bad)?;
        let v = self.visibility;
        if v.input == Visibility::Fixed || v.output == Visibility::Fixed {
            return Err(bad("only params can be fixed".into()));
        }
        let hashed = [v.input, v.param, v.output].contains(&Visibility::Hashed);
        if self.circuit.poseidon != hashed || self.circuit.lanes == 0 || (self.circuit.range_bits != 0 && !(6..=20).contains(&self.circuit.range_bits)) || self.circuit.advice_weight_lanes >= self.circuit.lanes.max(1) && self.circuit.advice_weight_lanes != 0 || self.circuit.dot_groups == 1 || self.circuit.dot_groups > 16 {
            return Err(bad(format!("circuit parameters {:?} do not match the visibilities", self.circuit)));
        }
        for s in &p.segments {
            let ok = match s.role {
                Role::Input(i) => v.input == Visibility::Public && i < self.input_scales.len() && s.packed,
                Role::InputHash(i) => v.input == Visibility::Hashed && i < self.input_scales.len(),
                Role::Param(_) => v.param == Visibility::Public,
                Role::ParamsHash => v.param == Visibility::Hashed,
                Role::Output(i) => v.output == Visibility::Public && i < self.output_scales.len() && s.packed,
                Role::OutputHash(i) => v.output == Visibility::Hashed && i < self.output_scales.len(),
                Role::Binding => true,
            };
            if !ok {
                return Err(bad(format!("public-value segment {:?} does not fit visibilities {v:?}", s.role)));
            }
        }
        let count = |f: fn(&Role) -> bool| p.segments.iter().filter(|s| f(&s.role)).count();
        let per_tensor = |vis: Visibility, n: usize, values: usize, hashes: usize| match vis {
            Visibility::Public => values == n && hashes == 0,
            Visibility::Hashed => hashes == n && values == 0,
            _ => values == 0 && hashes == 0,
        };
        let (ni, no) = (self.input_scales.len(), self.output_scales.len());
        if !per_tensor(v.input, ni, count(|r| matches!(r, Role::Input(_))), count(|r| matches!(r, Role::InputHash(_))))
            || !per_tensor(v.output, no, count(|r| matches!(r, Role::Output(_))), count(|r| matches!(r, Role::OutputHash(_))))
        {
            return Err(bad("the public values do not cover every input and output exactly once".into()));
        }
        match (v.param == Visibility::Hashed, &self.params_hash) {
            (true, Some(_)) if self.params_hash_fr().is_some() => {}
            (false, None) => {}
            _ => return Err(bad("a params hash must be given exactly when params are hashed, as a field element".into())),
        }
        Ok(())
    }

    /// What a proof under this statement shows about the params, when it is weaker than "this
    /// exact model": private params are unconstrained witnesses.
    pub fn warning(&self) -> Option<String> {
        (self.visibility.param == Visibility::Private).then(|| {
            "params are private: the proof shows only that SOME weights for this architecture give these outputs, not which model produced them; use fixed or hashed params for a claim about one model".to_string()
        })
    }
}

fn fr_be(f: &Fr) -> [u8; 32] {
    let mut b: [u8; 32] = f.to_repr().as_ref().try_into().expect("32 bytes");
    b.reverse();
    b
}

/// The model commitment of a verifying key under a statement (module docs).
pub fn model_commitment(vk: &VerifyingKey, st: &Statement) -> [u8; 32] {
    let mut h = Keccak256::new();
    h.update(COMMITMENT_DOMAIN);
    h.update(Keccak256::digest(vk.to_bytes(SerdeFormat::RawBytes)));
    h.update(fr_be(&vk.transcript_repr()));
    h.update(Keccak256::digest(st.encode()));
    h.finalize().into()
}

/// `0x`-hex of a commitment.
pub fn commitment_hex(c: &[u8; 32]) -> String {
    format!("0x{}", hex::encode(c))
}
