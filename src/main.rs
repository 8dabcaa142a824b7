//! The `zkinfer` command line. Command names and flags follow EZKL's; every command is one call
//! into the `zkinfer` library. Exit codes: 0 success, 1 proof invalid (`verify`), 2 usage or input
//! error (one line on stderr).

/// Writes one line to stdout. `println!` panics when stdout is a closed pipe (`zkinfer … | head`);
/// this ends the process quietly instead, as Unix tools do, and reports any other write error.
macro_rules! outln {
    ($($arg:tt)*) => { $crate::write_stdout(format_args!("{}\n", format_args!($($arg)*))) };
}
/// [`outln!`] without the newline.
macro_rules! out {
    ($($arg:tt)*) => { $crate::write_stdout(format_args!($($arg)*)) };
}

mod market_cli;
mod prediction_cli;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use zkinfer::{InputData, RunArgs, Settings, Target, Visibility};

#[derive(Parser)]
#[command(name = "zkinfer", version, about = "Zero-knowledge proofs of ML inference (ONNX → Halo2/KZG → native and EVM verifiers)")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Write settings.json for a model (scales, lookup range, logrows, visibilities).
    GenSettings {
        #[arg(short = 'M', long = "model")]
        model: PathBuf,
        #[arg(short = 'O', long = "settings-path", default_value = "settings.json")]
        settings_path: PathBuf,
        #[arg(long, default_value = "public")]
        input_visibility: Visibility,
        /// `fixed`: weights in the verifying key; `hashed`: their Poseidon hash, bound by the
        /// model commitment; `public`: every weight a public value; `private`: NOT bound — a
        /// proof then shows only that SOME weights give the output, not which model (the market
        /// refuses such models).
        #[arg(long, default_value = "fixed")]
        param_visibility: Visibility,
        #[arg(long, default_value = "public")]
        output_visibility: Visibility,
        /// Rows of the circuit as a power of two (raised if the model does not fit).
        #[arg(long)]
        logrows: Option<u32>,
        #[arg(long, default_value_t = 7)]
        input_scale: u32,
        #[arg(long, default_value_t = 7)]
        param_scale: u32,
        #[arg(long, default_value_t = 2)]
        num_inner_cols: usize,
        /// Compile for a prediction tournament: the encoding file of `zkinfer market encoding`
        /// fixes hashed features, their scale and packing range (overrides --input-visibility
        /// and --input-scale; do not run calibrate-settings afterwards, it would change them).
        #[arg(long)]
        feature_encoding: Option<PathBuf>,
    },
    /// Choose scales, lookup range and logrows from sample inputs and report fidelity.
    CalibrateSettings {
        #[arg(short = 'M', long = "model")]
        model: PathBuf,
        #[arg(short = 'D', long = "data")]
        data: PathBuf,
        #[arg(short = 'O', long = "settings-path", default_value = "settings.json")]
        settings_path: PathBuf,
        #[arg(long, default_value = "resources")]
        target: Target,
        /// `resources` keeps every output's max abs error within this fraction of its largest
        /// magnitude (and every argmax): 0.01 is 1%.
        #[arg(long, default_value_t = zkinfer_onnx::quant::calibrate::DEFAULT_TOLERANCE)]
        tolerance: f64,
        /// Largest input / param scale tried (at most 24; higher scales may overflow i64 and are
        /// then skipped).
        #[arg(long, default_value_t = zkinfer_onnx::quant::calibrate::MAX_SCALE)]
        max_scale: u32,
    },
    /// Quantize the model under settings.json into model.compiled.
    CompileCircuit {
        #[arg(short = 'M', long = "model")]
        model: PathBuf,
        #[arg(short = 'S', long = "settings-path", default_value = "settings.json")]
        settings_path: PathBuf,
        #[arg(long = "compiled-circuit", default_value = "model.compiled")]
        compiled_circuit: PathBuf,
    },
    /// Run the integer reference executor on one input and write witness.json.
    GenWitness {
        #[arg(short = 'D', long = "data")]
        data: PathBuf,
        #[arg(short = 'M', long = "compiled-circuit")]
        compiled_circuit: PathBuf,
        #[arg(short = 'O', long = "output", default_value = "witness.json")]
        output: PathBuf,
    },
    /// Generate an INSECURE KZG SRS for development (use a ceremony SRS in production).
    GenSrs {
        #[arg(long)]
        logrows: u32,
        #[arg(long = "srs-path", default_value = "kzg.srs")]
        srs_path: PathBuf,
        /// Deterministic (still insecure) SRS from this seed, for reproducible test vectors.
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Generate the proving and verifying keys of a compiled model; prints the model commitment.
    Setup {
        #[arg(short = 'M', long = "compiled-circuit", default_value = "model.compiled")]
        compiled_circuit: PathBuf,
        #[arg(long = "srs-path", default_value = "kzg.srs")]
        srs_path: PathBuf,
        #[arg(long = "vk-path", default_value = "vk.key")]
        vk_path: PathBuf,
        #[arg(long = "pk-path", default_value = "pk.key")]
        pk_path: PathBuf,
    },
    /// Check a witness against the circuit with the MockProver (no keys needed).
    Mock {
        #[arg(short = 'M', long = "compiled-circuit", default_value = "model.compiled")]
        compiled_circuit: PathBuf,
        #[arg(short = 'W', long = "witness", default_value = "witness.json")]
        witness: PathBuf,
    },
    /// Prove one inference.
    Prove {
        #[arg(short = 'M', long = "compiled-circuit", default_value = "model.compiled")]
        compiled_circuit: PathBuf,
        #[arg(short = 'W', long = "witness", default_value = "witness.json")]
        witness: PathBuf,
        #[arg(long = "pk-path", default_value = "pk.key")]
        pk_path: PathBuf,
        #[arg(long = "proof-path", default_value = "proof.json")]
        proof_path: PathBuf,
        #[arg(long = "srs-path", default_value = "kzg.srs")]
        srs_path: PathBuf,
        /// Binding public input (0x-hex field element), e.g. derived from a request id and operator.
        #[arg(long)]
        binding: Option<String>,
    },
    /// Verify a proof natively: exit 0 valid, 1 invalid, 2 usage or input error.
    Verify {
        #[arg(long = "proof-path", default_value = "proof.json")]
        proof_path: PathBuf,
        /// Accepted for EZKL compatibility; when given, its logrows must match the key's.
        #[arg(long = "settings-path")]
        settings_path: Option<PathBuf>,
        #[arg(long = "vk-path", default_value = "vk.key")]
        vk_path: PathBuf,
        #[arg(long = "srs-path", default_value = "kzg.srs")]
        srs_path: PathBuf,
        /// The model commitment the proof must be for (e.g. the registered one); a proof for any
        /// other model is invalid.
        #[arg(long = "model-commitment")]
        model_commitment: Option<String>,
        /// Print a JSON verdict on stdout (valid, reason, model_commitment, the verified outputs,
        /// hashes and binding).
        #[arg(long)]
        json: bool,
    },
    /// Write the verifier artifact of a verifying key (experimental, format 0: the per-model data
    /// of the coming reusable verifier) and print its digest.
    CreateEvmVka {
        #[arg(long = "vk-path", default_value = "vk.key")]
        vk_path: PathBuf,
        #[arg(long = "srs-path", default_value = "kzg.srs")]
        srs_path: PathBuf,
        #[arg(long = "vka-path", default_value = "vka.json")]
        vka_path: PathBuf,
    },
    /// Verify a proof natively from a verifier artifact alone (no verifying key, no SRS):
    /// exit 0 valid, 1 invalid, 2 usage or input error.
    VerifyVka {
        #[arg(long = "proof-path", default_value = "proof.json")]
        proof_path: PathBuf,
        #[arg(long = "vka-path", default_value = "vka.json")]
        vka_path: PathBuf,
        /// The model commitment the proof must be for; a proof for any other model is invalid.
        #[arg(long = "model-commitment")]
        model_commitment: Option<String>,
        /// Print a JSON verdict on stdout (as `verify`, plus the artifact digest).
        #[arg(long)]
        json: bool,
    },
    /// Write the Solidity verifier for a verifying key (generated Halo2Verifier + ABI wrapper
    /// ZkinferVerifier) and the wrapper's ABI.
    CreateEvmVerifier {
        #[arg(long = "vk-path", default_value = "vk.key")]
        vk_path: PathBuf,
        /// Accepted for EZKL compatibility (the key carries what is needed).
        #[arg(long = "settings-path")]
        settings_path: Option<PathBuf>,
        #[arg(long = "srs-path", default_value = "kzg.srs")]
        srs_path: PathBuf,
        #[arg(long = "sol-code-path", default_value = "Verifier.sol")]
        sol_code_path: PathBuf,
        #[arg(long = "abi-path", default_value = "Verifier.abi")]
        abi_path: PathBuf,
    },
    /// Write the calldata of `verifyProof(bytes proof, uint256[] instances)` for a proof (the call
    /// to the ZkinferVerifier wrapper that create-evm-verifier writes).
    EncodeEvmCalldata {
        #[arg(long = "proof-path", default_value = "proof.json")]
        proof_path: PathBuf,
        #[arg(long = "calldata-path", default_value = "calldata.bin")]
        calldata_path: PathBuf,
    },
    /// Compile and deploy the verifier (Halo2Verifier and its ZkinferVerifier wrapper) in the
    /// embedded EVM, or on a JSON-RPC node with --rpc-url and --private-key; prints deploy gas,
    /// code size and, on a node, the addresses.
    DeployEvm {
        #[arg(long = "sol-code-path", default_value = "Verifier.sol")]
        sol_code_path: PathBuf,
        /// JSON-RPC node (http). Without it the embedded EVM is used.
        #[arg(long = "rpc-url")]
        rpc_url: Option<String>,
        /// Hex private key of the deployer (needed with --rpc-url).
        #[arg(long = "private-key")]
        private_key: Option<String>,
        /// Write the ZkinferVerifier address (the one `verify-evm --addr-verifier` takes) here.
        #[arg(long = "addr-path")]
        addr_path: Option<PathBuf>,
    },
    /// Verify a proof in the EVM: in the embedded EVM from --sol-code-path, or on a node
    /// (--rpc-url) against a deployed ZkinferVerifier (--addr-verifier). Exit 0 valid, 1 invalid,
    /// 2 usage or input error.
    VerifyEvm {
        #[arg(long = "proof-path", default_value = "proof.json")]
        proof_path: PathBuf,
        #[arg(long = "sol-code-path", default_value = "Verifier.sol")]
        sol_code_path: PathBuf,
        /// JSON-RPC node (http); needs --addr-verifier.
        #[arg(long = "rpc-url")]
        rpc_url: Option<String>,
        /// Address of a deployed ZkinferVerifier (printed and written by `deploy-evm`).
        #[arg(long = "addr-verifier")]
        addr_verifier: Option<String>,
        /// With --rpc-url: send the check as a transaction signed by this key and report its
        /// exact gas; without it the node's eth_estimateGas is reported.
        #[arg(long = "private-key")]
        private_key: Option<String>,
        /// Print the gas report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// The market: deploy, register and stake models, request, fulfil and reclaim inferences
    /// (`zkinfer market --help`).
    Market {
        #[command(subcommand)]
        cmd: market_cli::MarketCmd,
    },
    /// Run the operator service from a TOML config (models, keys, RPC, market, workers, job
    /// store): watch requests, take private inputs over HTTP, prove, fulfil; stops gracefully
    /// on SIGINT / SIGTERM and resumes where it left off.
    Operator {
        #[arg(long, default_value = "operator.toml")]
        config: PathBuf,
    },
    /// Print a model's ops, shapes and parameter count.
    Inspect {
        #[arg(short = 'M', long = "model")]
        model: PathBuf,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
}

fn run(cli: Cli) -> zkinfer::Result<ExitCode> {
    match cli.cmd {
        Cmd::GenSettings { model, settings_path, input_visibility, param_visibility, output_visibility, logrows, input_scale, param_scale, num_inner_cols, feature_encoding } => {
            let g = zkinfer::load_model(&model)?;
            let mut ra = RunArgs {
                input_scale,
                param_scale,
                logrows: logrows.unwrap_or(4),
                num_inner_cols,
                input_visibility,
                param_visibility,
                output_visibility,
                ..RunArgs::default()
            };
            if let Some(path) = &feature_encoding {
                let enc = zkinfer_market::prediction::FeatureEncoding::load(path).map_err(|e| zkinfer::prover::ProverError::Format(e.to_string()))?;
                enc.apply(&mut ra);
            }
            let s = zkinfer::gen_settings(&g, ra)?;
            s.save(&settings_path)?;
            outln!("wrote {} (logrows {}, ~{} rows)", settings_path.display(), s.run_args.logrows, s.num_rows);
            if param_visibility == Visibility::Private {
                eprintln!("warning: private params are unconstrained: a proof shows only that some weights for this architecture give the outputs, not which model; use fixed or hashed params to prove a claim about one model");
            }
        }
        Cmd::CalibrateSettings { model, data, settings_path, target, tolerance, max_scale } => {
            let g = zkinfer::load_model(&model)?;
            let d = InputData::load(&data)?;
            let base = if settings_path.exists() { Settings::load(&settings_path)? } else { zkinfer::gen_settings(&g, RunArgs::default())? };
            let s = zkinfer::calibrate_settings_with(&g, &d, &base, target, tolerance, max_scale)?;
            s.save(&settings_path)?;
            let ra = &s.run_args;
            let rep = s.calibration.as_ref().expect("calibration report");
            let mut limbs = if ra.range_bits > 0 { format!(", range checks in {}-bit limbs", ra.range_bits) } else { String::new() };
            if ra.table_bits > 0 {
                limbs += &format!(", function tables of at most 2^{} rows (reduced inputs)", ra.table_bits);
            }
            if ra.dot_groups > 1 {
                limbs += &format!(", dot products in groups of {} sharing their inputs", ra.dot_groups);
            }
            outln!(
                "calibrated for {target:?} (tolerance {}% of each output's largest magnitude) on {} samples: input_scale {} param_scale {} lookup_range [{}, {}] logrows {} lanes {}{limbs}",
                rep.tolerance * 100.0, rep.samples, ra.input_scale, ra.param_scale, ra.lookup_range.0, ra.lookup_range.1, ra.logrows, ra.num_inner_cols
            );
            outln!("{:<24} {:>14} {:>14} {:>12} {:>8}", "output", "max abs err", "mean abs err", "max |float|", "argmax");
            for o in &rep.fidelity {
                let am = o.argmax_agreement.map(|a| format!("{:.1}%", a * 100.0)).unwrap_or_else(|| "-".into());
                outln!("{:<24} {:>14.6} {:>14.6} {:>12.4} {:>8}", o.name, o.max_abs_error, o.mean_abs_error, o.max_abs_float, am);
            }
            outln!("wrote {}", settings_path.display());
        }
        Cmd::CompileCircuit { model, settings_path, compiled_circuit } => {
            let g = zkinfer::load_model(&model)?;
            let s = Settings::load(&settings_path)?;
            let c = zkinfer::compile(&g, &s)?;
            c.save(&compiled_circuit)?;
            outln!(
                "wrote {} ({} quantized ops, {} parameters, logrows {})",
                compiled_circuit.display(),
                c.graph.nodes.len(),
                c.graph.param_count(),
                c.settings.run_args.logrows
            );
        }
        Cmd::GenWitness { data, compiled_circuit, output } => {
            let c = zkinfer::CompiledModel::load(&compiled_circuit)?;
            let d = InputData::load(&data)?;
            let w = zkinfer::gen_witness(&c, &d)?;
            w.save(&output)?;
            for (i, o) in w.rescaled_outputs.iter().enumerate() {
                let shown: Vec<String> = o.iter().take(10).map(|v| format!("{v:.4}")).collect();
                outln!("output {i}: [{}{}]", shown.join(", "), if o.len() > 10 { ", ..." } else { "" });
            }
            outln!("wrote {}", output.display());
        }
        Cmd::GenSrs { logrows, srs_path, seed } => {
            if !(4..=26).contains(&logrows) {
                return Err(zkinfer::prover::ProverError::Format(format!("logrows {logrows} must be between 4 and 26")).into());
            }
            let srs = match seed {
                Some(s) => zkinfer::prover::gen_srs_seeded(logrows, s),
                None => zkinfer::prover::gen_srs(logrows),
            };
            zkinfer::prover::save_srs(&srs, &srs_path)?;
            outln!("wrote {} (2^{logrows} rows)", srs_path.display());
        }
        Cmd::Setup { compiled_circuit, srs_path, vk_path, pk_path } => {
            let c = zkinfer::CompiledModel::load(&compiled_circuit)?;
            let srs = zkinfer::prover::load_srs(&srs_path, c.settings.run_args.logrows)?;
            let (pk, vk) = zkinfer::setup(&c, &srs)?;
            pk.save(&pk_path)?;
            vk.save(&vk_path)?;
            outln!("wrote {} and {}", pk_path.display(), vk_path.display());
            outln!("model commitment: {}", zkinfer::prover::commitment_hex(&vk.commitment()));
            if let Some(w) = vk.statement().warning() {
                eprintln!("warning: {w}");
            }
        }
        Cmd::Mock { compiled_circuit, witness } => {
            let c = zkinfer::CompiledModel::load(&compiled_circuit)?;
            let w = zkinfer::Witness::load(&witness)?;
            zkinfer::mock(&c, &w)?;
            outln!("mock: all constraints satisfied (logrows {})", c.settings.run_args.logrows);
        }
        Cmd::Prove { compiled_circuit, witness, pk_path, proof_path, srs_path, binding } => {
            let c = zkinfer::CompiledModel::load(&compiled_circuit)?;
            let w = zkinfer::Witness::load(&witness)?;
            let pk = zkinfer::ProvingKeyFile::load(&pk_path)?;
            let srs = zkinfer::prover::load_srs(&srs_path, c.settings.run_args.logrows)?;
            let binding = match binding {
                Some(b) => zkinfer::prover::artifacts::fr_from_hex(&b)?,
                None => zkinfer::Binding::zero(),
            };
            let t = std::time::Instant::now();
            let proof = zkinfer::prove(&c, &w, &pk, &srs, binding)?;
            proof.save(&proof_path)?;
            outln!("wrote {} ({} proof bytes, {:.2} s)", proof_path.display(), proof.proof_bytes()?.len(), t.elapsed().as_secs_f64());
        }
        Cmd::Verify { proof_path, settings_path, vk_path, srs_path, model_commitment, json } => {
            let proof = zkinfer::ProofArtifact::load(&proof_path)?;
            let vk = zkinfer::VerifyingKeyFile::load(&vk_path)?;
            if let Some(sp) = settings_path {
                let s = Settings::load(&sp)?;
                if s.run_args.logrows > vk.logrows() {
                    return Err(zkinfer::prover::ProverError::Format(format!(
                        "settings logrows {} do not match the verifying key's {}",
                        s.run_args.logrows,
                        vk.logrows()
                    ))
                    .into());
                }
            }
            let srs = zkinfer::prover::load_srs(&srs_path, vk.logrows())?;
            let v = zkinfer::verify(&proof, &vk, &srs)?.expecting(model_commitment.as_deref());
            return Ok(report_verdict(&v, json, None));
        }
        Cmd::CreateEvmVka { vk_path, srs_path, vka_path } => {
            let vk = zkinfer::VerifyingKeyFile::load(&vk_path)?;
            let srs = zkinfer::prover::load_srs(&srs_path, vk.logrows())?;
            let a = zkinfer::verifier::vka::VerifierArtifact::new(&vk, &srs);
            a.save(&vka_path)?;
            outln!("wrote {}: digest 0x{} (model commitment {})", vka_path.display(), hex_string(&a.digest()), a.model_commitment);
        }
        Cmd::VerifyVka { proof_path, vka_path, model_commitment, json } => {
            let proof = zkinfer::ProofArtifact::load(&proof_path)?;
            let a = zkinfer::verifier::vka::VerifierArtifact::load(&vka_path)?;
            let v = a.verify(&proof)?.expecting(model_commitment.as_deref());
            return Ok(report_verdict(&v, json, Some(format!("0x{}", hex_string(&a.digest())))));
        }
        Cmd::CreateEvmVerifier { vk_path, settings_path: _, srs_path, sol_code_path, abi_path } => {
            let vk = zkinfer::VerifyingKeyFile::load(&vk_path)?;
            let srs = zkinfer::prover::load_srs(&srs_path, vk.logrows())?;
            let sol = zkinfer::verifier::evm::verifier_file(&srs, &vk);
            let compiled = zkinfer::verifier::evm::CompiledVerifier::new(&sol).map_err(evm_err)?;
            let (raw, wrapper) = (&compiled.verifier, &compiled.wrapper);
            zkinfer::onnx::settings::write_atomic(&sol_code_path, sol.as_bytes())?;
            zkinfer::onnx::settings::write_json_atomic(&abi_path, &wrapper.abi)?;
            outln!(
                "wrote {} and {}: Halo2Verifier runtime {} bytes, {} public values in {} instances, model commitment {}",
                sol_code_path.display(),
                abi_path.display(),
                raw.runtime.len(),
                vk.statement().packing.num_values(),
                vk.statement().packing.num_instances(),
                compiled.model_commitment
            );
            if raw.runtime.len() > 24_576 {
                outln!(
                    "warning: over the 24,576-byte contract size limit (EIP-170), mainnet would refuse it; the code grows ~100-170 bytes per instance: make large tensors `hashed` (one instance each), or try --num-inner-cols 1 (fewer columns, more rows)"
                );
            }
        }
        Cmd::EncodeEvmCalldata { proof_path, calldata_path } => {
            let p = zkinfer::ProofArtifact::load(&proof_path)?;
            let data = zkinfer::verifier::evm::verify_proof_calldata(&p.proof_bytes()?, &p.instances()?);
            zkinfer::onnx::settings::write_atomic(&calldata_path, &data)?;
            outln!("wrote {} ({} bytes)", calldata_path.display(), data.len());
        }
        Cmd::DeployEvm { sol_code_path, rpc_url, private_key, addr_path } => {
            use zkinfer::verifier::evm::{deploy_verifier, CompiledVerifier, EmbeddedEvm};
            let sol = std::fs::read_to_string(&sol_code_path).map_err(|e| zkinfer::onnx::Error::io(&sol_code_path, e))?;
            let sol = CompiledVerifier::new(&sol).map_err(evm_err)?;
            let (d, place) = match &rpc_url {
                Some(url) => {
                    let key = private_key.as_deref().ok_or_else(|| evm_err("deploy-evm --rpc-url needs --private-key (the deployer's key)".into()))?;
                    let mut chain = zkinfer::verifier::rpc::RpcChain::connect(url, Some(key)).map_err(evm_err)?;
                    (deploy_verifier(&mut chain, &sol).map_err(evm_err)?, url.clone())
                }
                None => (deploy_verifier(&mut EmbeddedEvm::without_size_limit(), &sol).map_err(evm_err)?, "the embedded EVM".to_string()),
            };
            outln!("deployed Halo2Verifier at {} on {place}: {} gas, runtime {} bytes", d.verifier, d.deploy_gas, d.runtime_bytes);
            outln!("deployed ZkinferVerifier (verifyProof) at {}", d.wrapper);
            if d.runtime_bytes > 24_576 {
                outln!("warning: the runtime exceeds the 24,576-byte contract size limit (EIP-170); mainnet would refuse it");
            }
            if let Some(path) = addr_path {
                zkinfer::onnx::settings::write_atomic(&path, format!("{}\n", d.wrapper).as_bytes())?;
            }
        }
        Cmd::VerifyEvm { proof_path, sol_code_path, rpc_url, addr_verifier, private_key, json } => {
            let p = zkinfer::ProofArtifact::load(&proof_path)?;
            let (instances, proof) = (p.instances()?, p.proof_bytes()?);
            let Some(url) = rpc_url else {
                if addr_verifier.is_some() {
                    return Err(evm_err("--addr-verifier needs --rpc-url (the node the verifier is deployed on)".into()));
                }
                let sol = std::fs::read_to_string(&sol_code_path).map_err(|e| zkinfer::onnx::Error::io(&sol_code_path, e))?;
                let r = zkinfer::verifier::evm::verify_in_evm(&sol, &instances, &proof).map_err(evm_err)?;
                if json {
                    outln!("{}", serde_json::to_string(&r).expect("serializable"));
                } else {
                    outln!(
                        "proof is {} in the embedded EVM: verify gas {} (via verifyProof {}), deploy gas {}, runtime {} bytes, calldata {} bytes",
                        if r.valid { "VALID" } else { "INVALID" },
                        r.verify_gas,
                        r.verify_abi_gas,
                        r.deploy_gas,
                        r.runtime_bytes,
                        r.calldata_bytes
                    );
                }
                return Ok(if r.valid { ExitCode::SUCCESS } else { ExitCode::from(1) });
            };
            let addr = addr_verifier.ok_or_else(|| evm_err("verify-evm --rpc-url needs --addr-verifier (the ZkinferVerifier address from deploy-evm)".into()))?;
            let r = zkinfer::verifier::rpc::verify_at(&url, &addr, private_key.as_deref(), &instances, &proof).map_err(evm_err)?;
            if json {
                outln!("{}", serde_json::to_string(&r).expect("serializable"));
            } else {
                let gas = match (r.gas_used, r.gas_estimate) {
                    (Some(g), _) => format!("{g} gas used by the transaction"),
                    (None, Some(g)) => format!("{g} gas estimated"),
                    (None, None) => "no gas figure (rejected)".into(),
                };
                outln!("proof is {} at {} on {url}: {gas}", if r.valid { "VALID" } else { "INVALID" }, r.address);
            }
            return Ok(if r.valid { ExitCode::SUCCESS } else { ExitCode::from(1) });
        }
        Cmd::Market { cmd } => return market_cli::run(cmd).map_err(|e| zkinfer::prover::ProverError::Format(e.to_string()).into()),
        Cmd::Operator { config } => return market_cli::operator(&config).map_err(|e| zkinfer::prover::ProverError::Format(e.to_string()).into()),
        Cmd::Inspect { model, json } => {
            let g = zkinfer::load_model(&model)?;
            let s = zkinfer::inspect::summarize(&g);
            if json {
                outln!("{}", serde_json::to_string_pretty(&s).expect("serializable"));
            } else {
                out!("{s}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Print a verdict (JSON or one line, with the verified outputs) and map it to the exit code.
fn report_verdict(v: &zkinfer::Verdict, json: bool, artifact_digest: Option<String>) -> ExitCode {
    if json {
        let mut j = serde_json::to_value(v).expect("serializable");
        if let Some(d) = artifact_digest {
            j["artifact_digest"] = d.into();
        }
        outln!("{j}");
    } else if v.valid {
        let via = artifact_digest.map(|d| format!(" (verifier artifact {d})")).unwrap_or_default();
        outln!("proof is VALID for model commitment {}{via}", v.model_commitment);
        if let Some(outs) = v.claims.as_ref().and_then(|c| c.rescaled_outputs.as_ref()) {
            for (i, o) in outs.iter().enumerate() {
                let shown: Vec<String> = o.iter().take(10).map(|x| format!("{x:.4}")).collect();
                outln!("proven output {i}: [{}{}]", shown.join(", "), if o.len() > 10 { ", ..." } else { "" });
            }
        }
    } else {
        outln!("proof is INVALID: {}", v.reason.as_deref().unwrap_or("rejected"));
    }
    if let Some(w) = &v.warning {
        eprintln!("warning: {w}");
    }
    if v.valid { ExitCode::SUCCESS } else { ExitCode::from(1) }
}

fn evm_err(msg: String) -> zkinfer::Error {
    zkinfer::prover::ProverError::Format(msg).into()
}

fn hex_string(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn write_stdout(args: std::fmt::Arguments) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_fmt(args).and_then(|()| stdout.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: writing to stdout: {e}");
        std::process::exit(2);
    }
}

/// The CPU features the `asm` field arithmetic uses that this CPU lacks (so that an `asm` build
/// says so instead of dying on an illegal instruction).
fn missing_cpu_features() -> Option<String> {
    #[cfg(all(feature = "asm", target_arch = "x86_64"))]
    {
        let missing: Vec<&str> = [("adx", std::arch::is_x86_feature_detected!("adx")), ("bmi2", std::arch::is_x86_feature_detected!("bmi2"))]
            .into_iter()
            .filter(|(_, has)| !has)
            .map(|(f, _)| f)
            .collect();
        if !missing.is_empty() {
            return Some(missing.join(", "));
        }
    }
    None
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("ZKINFER_LOG").unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    if let Some(missing) = missing_cpu_features() {
        eprintln!("error: this zkinfer was built with BN254 assembly (feature `asm`), which needs the CPU features {missing}; rebuild with `cargo build --release --no-default-features`");
        return ExitCode::from(2);
    }
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
