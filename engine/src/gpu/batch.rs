//! Batched submission: kernel launches are recorded into one open command encoder and
//! submitted together — no host synchronization per op. Each launch's parameters take one
//! 256-byte slot of a uniform arena, written once per batch just before its submit (queue
//! order makes that write land after the previous batch and before this one).
//!
//! Only `read` waits for the device: it flushes, copies into a mappable staging buffer and
//! blocks until the copy is done.

use std::num::NonZeroU64;
use std::sync::mpsc;

use super::GpuContext;

/// Bytes of one launch's parameters (every shader's `Params` struct fits in it).
pub(crate) const PARAM_SLOT: u64 = 256;
/// Launches per submitted batch.
const MAX_BATCH: u64 = 256;

pub(crate) struct Batch {
    encoder: Option<wgpu::CommandEncoder>,
    launches: u64,
    /// Parameter bytes of the open batch, slot by slot.
    params: Vec<u8>,
    arena: wgpu::Buffer,
    slot: u64,
}

impl Batch {
    pub(crate) fn new(device: &wgpu::Device, limits: &wgpu::Limits) -> Self {
        let slot = PARAM_SLOT.max(limits.min_uniform_buffer_offset_alignment as u64);
        let arena = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("llamaforge params"),
            size: slot * MAX_BATCH,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        Batch { encoder: None, launches: 0, params: Vec::new(), arena, slot }
    }

    fn submit(&mut self, queue: &wgpu::Queue) {
        if let Some(encoder) = self.encoder.take() {
            if !self.params.is_empty() {
                queue.write_buffer(&self.arena, 0, &self.params);
            }
            queue.submit([encoder.finish()]);
        }
        self.launches = 0;
        self.params.clear();
    }
}

/// One storage binding of a launch: `(binding index, buffer)`.
pub(crate) type Binding<'a> = (u32, &'a wgpu::Buffer);

impl GpuContext {
    /// Records one launch of `entry` from shader `shader` with `params` (32-bit words, laid
    /// out as the shader's `Params` struct) at binding 0 and `bindings` as storage buffers,
    /// over `groups` workgroups. Empty launches (a zero group count) are skipped.
    pub(crate) fn launch(
        &self,
        shader: &'static str,
        entry: &'static str,
        params: &[u32],
        bindings: &[Binding],
        groups: [u32; 3],
    ) {
        if groups.contains(&0) {
            return;
        }
        for (dim, &g) in groups.iter().enumerate() {
            assert!(
                g <= self.limits.max_compute_workgroups_per_dimension,
                "{entry}: {g} workgroups in dimension {dim} exceed this adapter's limit of {}",
                self.limits.max_compute_workgroups_per_dimension
            );
        }
        let bytes: &[u8] = bytemuck::cast_slice(params);
        assert!(bytes.len() as u64 <= PARAM_SLOT, "{entry}: parameters of {} bytes exceed a slot", bytes.len());
        let pipeline = self.pipelines.get(&self.device, shader, entry);
        let max_binding = self.limits.max_storage_buffer_binding_size & !3;
        let mut batch = self.batch.lock().expect("gpu batch poisoned");
        let offset = batch.params.len() as u64;
        let slot = batch.slot;
        batch.params.extend_from_slice(bytes);
        batch.params.resize((offset + slot) as usize, 0);
        let mut entries = vec![wgpu::BindGroupEntry {
            binding: 0,
            resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                buffer: &batch.arena,
                offset,
                size: NonZeroU64::new(PARAM_SLOT),
            }),
        }];
        for &(binding, buffer) in bindings {
            let size = buffer.size().min(max_binding);
            entries.push(wgpu::BindGroupEntry {
                binding,
                resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer,
                    offset: 0,
                    size: NonZeroU64::new(size),
                }),
            });
        }
        let bind_group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(entry),
            layout: &pipeline.get_bind_group_layout(0),
            entries: &entries,
        });
        let device = &self.device;
        let encoder = batch.encoder.get_or_insert_with(|| {
            device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("batch") })
        });
        {
            let mut pass =
                encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some(entry), timestamp_writes: None });
            pass.set_pipeline(&pipeline);
            pass.set_bind_group(0, &bind_group, &[]);
            pass.dispatch_workgroups(groups[0], groups[1], groups[2]);
        }
        batch.launches += 1;
        if batch.launches >= MAX_BATCH {
            batch.submit(&self.queue);
        }
    }

    /// Submits the open batch (does not wait for it).
    pub(crate) fn flush(&self) {
        self.batch.lock().expect("gpu batch poisoned").submit(&self.queue);
    }

    /// Records a buffer-to-buffer copy of `bytes` bytes into the open batch.
    pub(crate) fn copy(&self, src: &wgpu::Buffer, dst: &wgpu::Buffer, bytes: u64) {
        if bytes == 0 {
            return;
        }
        let mut batch = self.batch.lock().expect("gpu batch poisoned");
        let device = &self.device;
        let encoder = batch.encoder.get_or_insert_with(|| {
            device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("batch") })
        });
        encoder.copy_buffer_to_buffer(src, 0, dst, 0, bytes);
    }

    /// Writes host bytes into `dst` after everything recorded so far (the open batch is
    /// submitted first, so a recycled buffer is not overwritten before earlier reads).
    pub(crate) fn write(&self, dst: &wgpu::Buffer, bytes: &[u8]) {
        let mut batch = self.batch.lock().expect("gpu batch poisoned");
        batch.submit(&self.queue);
        let len = bytes.len() & !3;
        if len > 0 {
            self.queue.write_buffer(dst, 0, &bytes[..len]);
        }
        if len < bytes.len() {
            let mut tail = [0u8; 4];
            tail[..bytes.len() - len].copy_from_slice(&bytes[len..]);
            self.queue.write_buffer(dst, len as u64, &tail);
        }
    }

    /// The first `bytes` bytes of `src`, after all recorded work: the one place the host
    /// waits for the device.
    pub(crate) fn read(&self, src: &wgpu::Buffer, bytes: u64) -> Vec<u8> {
        let padded = bytes.div_ceil(4) * 4;
        if padded == 0 {
            return Vec::new();
        }
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("llamaforge readback"),
            size: padded,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        self.copy(src, &staging, padded);
        self.flush();
        let (tx, rx) = mpsc::channel();
        staging.map_async(wgpu::MapMode::Read, .., move |r| {
            let _ = tx.send(r);
        });
        self.device.poll(wgpu::PollType::wait_indefinitely()).expect("gpu: device lost while waiting for a read");
        rx.recv().expect("gpu: map callback dropped").expect("gpu: mapping the readback buffer failed");
        let data = staging.get_mapped_range(..).expect("gpu: readback buffer is mapped").to_vec();
        staging.unmap();
        data[..bytes as usize].to_vec()
    }
}
