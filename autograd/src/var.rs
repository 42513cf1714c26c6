//! `Var`: a tensor in the autograd graph, and the reverse-mode walk over it.
//!
//! Every op on `Var`s computes its forward with engine ops and, when gradients are wanted,
//! records a node: the op's name, its input `Var`s and a closure holding what its backward
//! needs. `backward()` orders the nodes topologically, runs each closure once (dropping it,
//! which frees the saved activations) and accumulates gradients into the leaves.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};

use llamaforge_engine::{Op, Tensor};

use crate::grad_mode::is_grad_enabled;

/// Maps the gradient of an op's output to the gradients of its inputs (`None` for inputs
/// that take no gradient, such as index tensors).
pub type BackwardFn = Box<dyn FnOnce(&Tensor) -> Vec<Option<Tensor>>>;

struct Node {
    op: Op,
    inputs: Vec<Var>,
    backward: BackwardFn,
}

struct VarInner {
    id: usize,
    value: RefCell<Tensor>,
    grad: RefCell<Option<Tensor>>,
    /// A `Cell` so a parameter can be frozen (and unfrozen) after it is built.
    requires_grad: Cell<bool>,
    name: Option<String>,
    node: RefCell<Option<Node>>,
}

/// A node of the autograd graph: a value, and (for leaves that require it) a gradient.
/// Cloning a `Var` clones a handle to the same node.
#[derive(Clone)]
pub struct Var(Rc<VarInner>);

static NEXT_ID: AtomicUsize = AtomicUsize::new(0);

impl std::fmt::Debug for Var {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Var")
            .field("name", &self.0.name)
            .field("shape", &self.shape())
            .field("requires_grad", &self.0.requires_grad.get())
            .finish()
    }
}

impl Var {
    fn new(value: Tensor, requires_grad: bool, name: Option<String>, node: Option<Node>) -> Var {
        Var(Rc::new(VarInner {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            value: RefCell::new(value),
            grad: RefCell::new(None),
            requires_grad: Cell::new(requires_grad),
            name,
            node: RefCell::new(node),
        }))
    }

    /// A value that takes no gradient (inputs, masks, frozen weights).
    pub fn constant(value: Tensor) -> Var {
        Var::new(value, false, None, None)
    }

    /// A named trainable leaf; its gradient accumulates in [`Var::grad`].
    pub fn parameter(name: impl Into<String>, value: Tensor) -> Var {
        Var::new(value, true, Some(name.into()), None)
    }

    /// An unnamed leaf that takes a gradient (tests, gradient checks).
    pub fn leaf(value: Tensor) -> Var {
        Var::new(value, true, None, None)
    }

    /// Records the result of `op` on `inputs`. Without grad mode, or when no input needs a
    /// gradient, the result is a constant and `backward` is dropped unused.
    pub fn from_op(
        op: Op,
        value: Tensor,
        inputs: &[&Var],
        backward: impl FnOnce(&Tensor) -> Vec<Option<Tensor>> + 'static,
    ) -> Var {
        if is_grad_enabled() && inputs.iter().any(|v| v.requires_grad()) {
            let node = Node { op, inputs: inputs.iter().map(|&v| v.clone()).collect(), backward: Box::new(backward) };
            Var::new(value, true, None, Some(node))
        } else {
            Var::constant(value)
        }
    }

    /// The current value (a cheap handle to shared storage).
    pub fn value(&self) -> Tensor {
        self.0.value.borrow().clone()
    }

    /// Replaces the value of a leaf (the optimizer's update).
    pub fn set_value(&self, value: Tensor) {
        assert_eq!(value.shape(), self.shape().as_slice(), "set_value: shape changed for {:?}", self.0.name);
        *self.0.value.borrow_mut() = value;
    }

    /// Runs `f` on the value in place (the optimizer's in-place AdamW).
    pub fn update_value<R>(&self, f: impl FnOnce(&mut Tensor) -> R) -> R {
        f(&mut self.0.value.borrow_mut())
    }

    pub fn shape(&self) -> Vec<usize> {
        self.0.value.borrow().shape().to_vec()
    }

    pub fn requires_grad(&self) -> bool {
        self.0.requires_grad.get()
    }

    /// Freezes (`false`) or unfreezes (`true`) a leaf. A frozen leaf is a constant to
    /// every op recorded afterwards: no graph is built through it unless another input
    /// needs a gradient, no gradient is computed for it, and its stored gradient is
    /// dropped, so an optimizer that skips gradient-less parameters skips it.
    #[track_caller]
    pub fn set_requires_grad(&self, requires_grad: bool) {
        assert!(self.0.node.borrow().is_none(), "set_requires_grad: only leaves can be frozen, not op results");
        self.0.requires_grad.set(requires_grad);
        if !requires_grad {
            self.zero_grad();
        }
    }

    pub fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }

    /// The op that produced this var, if it was recorded.
    pub fn op(&self) -> Option<Op> {
        self.0.node.borrow().as_ref().map(|n| n.op)
    }

    /// The accumulated gradient of a leaf.
    pub fn grad(&self) -> Option<Tensor> {
        self.0.grad.borrow().clone()
    }

    /// Clears the accumulated gradient.
    pub fn zero_grad(&self) {
        *self.0.grad.borrow_mut() = None;
    }

    /// Takes the accumulated gradient out, leaving none.
    pub fn take_grad(&self) -> Option<Tensor> {
        self.0.grad.borrow_mut().take()
    }

    /// Backpropagates from a scalar (one-element) var with seed gradient 1.
    #[track_caller]
    pub fn backward(&self) {
        let v = self.value();
        assert_eq!(v.numel(), 1, "backward: output of shape {:?} is not a scalar; use backward_with", v.shape());
        self.backward_with(Tensor::ones(v.shape(), v.dtype()));
    }

    /// Backpropagates `seed` (the gradient of some scalar w.r.t. this var). Leaves that
    /// require gradients accumulate into `grad()`; the graph behind this var is consumed.
    #[track_caller]
    pub fn backward_with(&self, seed: Tensor) {
        assert_eq!(seed.shape(), self.shape().as_slice(), "backward_with: seed shape differs from output shape");
        let order = self.topological_order();
        let mut grads: HashMap<usize, Tensor> = HashMap::new();
        grads.insert(self.0.id, seed);
        for var in order.iter().rev() {
            let Some(grad) = grads.remove(&var.0.id) else { continue };
            let node = var.0.node.borrow_mut().take();
            match node {
                Some(node) => {
                    let input_grads = (node.backward)(&grad);
                    debug_assert_eq!(input_grads.len(), node.inputs.len(), "{}: backward arity", node.op.name());
                    for (input, g) in node.inputs.iter().zip(input_grads) {
                        let Some(g) = g else { continue };
                        if !input.requires_grad() {
                            continue;
                        }
                        debug_assert_eq!(g.shape(), input.shape().as_slice(), "{}: gradient shape", node.op.name());
                        match grads.remove(&input.0.id) {
                            Some(acc) => grads.insert(input.0.id, acc.add(&g)),
                            None => grads.insert(input.0.id, g),
                        };
                    }
                }
                None if var.requires_grad() => {
                    // a leaf: accumulate across backward calls (gradient accumulation)
                    let mut slot = var.0.grad.borrow_mut();
                    *slot = Some(match slot.take() {
                        Some(acc) => acc.add(&grad),
                        None => grad.contiguous(),
                    });
                }
                None => {}
            }
        }
    }

    /// Vars reachable from `self` through recorded nodes, inputs before outputs.
    fn topological_order(&self) -> Vec<Var> {
        let mut order = Vec::new();
        let mut visited = HashSet::new();
        // iterative DFS: deep graphs (many layers × many ops) would overflow a recursive one
        let mut stack: Vec<(Var, bool)> = vec![(self.clone(), false)];
        while let Some((var, children_done)) = stack.pop() {
            if children_done {
                order.push(var);
                continue;
            }
            if !visited.insert(var.0.id) {
                continue;
            }
            stack.push((var.clone(), true));
            if let Some(node) = var.0.node.borrow().as_ref() {
                for input in &node.inputs {
                    if input.requires_grad() && !visited.contains(&input.0.id) {
                        stack.push((input.clone(), false));
                    }
                }
            }
        }
        order
    }
}
