//! Compute pipelines compiled once and cached by (shader, entry point, specialization).
//! Bind group layouts are derived from the shader (`layout: None`), so each entry point's
//! bindings are exactly the ones it uses.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::shader_source;

/// `(shader file, entry point, specialization)`; the specialization is reserved for
/// pipeline-overridable constants (0 = the shader's defaults).
pub(crate) type PipelineKey = (&'static str, &'static str, u64);

#[derive(Default)]
pub(crate) struct PipelineCache {
    modules: Mutex<HashMap<&'static str, wgpu::ShaderModule>>,
    pipelines: Mutex<HashMap<PipelineKey, Arc<wgpu::ComputePipeline>>>,
}

impl PipelineCache {
    pub(crate) fn get(
        &self,
        device: &wgpu::Device,
        shader: &'static str,
        entry: &'static str,
    ) -> Arc<wgpu::ComputePipeline> {
        let key = (shader, entry, 0);
        if let Some(p) = self.pipelines.lock().expect("pipeline cache poisoned").get(&key) {
            return p.clone();
        }
        let module = {
            let mut modules = self.modules.lock().expect("pipeline cache poisoned");
            modules
                .entry(shader)
                .or_insert_with(|| {
                    let source = shader_source(shader).unwrap_or_else(|| panic!("gpu: no shader named {shader}"));
                    device.create_shader_module(wgpu::ShaderModuleDescriptor {
                        label: Some(shader),
                        source: wgpu::ShaderSource::Wgsl(source.into()),
                    })
                })
                .clone()
        };
        let pipeline = Arc::new(device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(entry),
            layout: None,
            module: &module,
            entry_point: Some(entry),
            compilation_options: Default::default(),
            cache: None,
        }));
        self.pipelines.lock().expect("pipeline cache poisoned").insert(key, pipeline.clone());
        pipeline
    }

    /// Number of compiled pipelines (for tests).
    pub(crate) fn len(&self) -> usize {
        self.pipelines.lock().expect("pipeline cache poisoned").len()
    }
}
