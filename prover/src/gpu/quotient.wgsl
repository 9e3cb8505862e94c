// The quotient's numerator at every point of one part of the extended coset: an interpreter of
// the straight-line program that the prover traces from the protocol's identities
// (prover/src/quotient.rs states the encoding). Every invocation runs the same instructions at
// its own point, so control flow stays uniform; one kernel serves every circuit. The host
// prepends REGISTERS, the size of the register file, and the encoding's ADD, SUB, REGISTER,
// CONSTANT and KIND (anything else is a multiplication, or a query).

struct Params {
    n: u32,
    // this part's index j: its point i is point j + extension * i of the extended coset
    part: u32,
    extension: u32,
    instructions: u32,
    // where the queries start in `program`, in words
    queries: u32,
    result: u32,
    // the index in `constants` of 1 / (X^n - 1) on this part
    vanishing: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
// Slot s's values on the part at s * n.
@group(0) @binding(1) var<storage, read> values: array<u32>;
// Four words an instruction, then two words a query.
@group(0) @binding(2) var<storage, read> program: array<u32>;
@group(0) @binding(3) var<storage, read> constants: array<u32>;
@group(0) @binding(4) var<storage, read_write> h: array<u32>;

var<private> registers: array<Limbs, REGISTERS>;

fn load_values(i: u32) -> Limbs {
    var w: Words;
    for (var k = 0u; k < 8u; k++) {
        w[k] = values[8u * i + k];
    }
    return unpack(w);
}

fn load_constant(i: u32) -> Limbs {
    var w: Words;
    for (var k = 0u; k < 8u; k++) {
        w[k] = constants[8u * i + k];
    }
    return unpack(w);
}

fn operand(x: u32, point: u32) -> Limbs {
    let index = x & ~KIND;
    switch (x & KIND) {
        case REGISTER: {
            return registers[index];
        }
        case CONSTANT: {
            return load_constant(index);
        }
        default: {
            let slot = program[params.queries + 2u * index];
            let rotation = program[params.queries + 2u * index + 1u];
            return load_values(slot * params.n + ((point + rotation) & (params.n - 1u)));
        }
    }
}

@compute @workgroup_size(64)
fn evaluate(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = invocation_index(id, groups);
    if (i >= params.n) {
        return;
    }
    for (var pc = 0u; pc < params.instructions; pc++) {
        let a = operand(program[4u * pc + 2u], i);
        let b = operand(program[4u * pc + 3u], i);
        var r: Limbs;
        switch (program[4u * pc]) {
            case ADD: {
                r = fr_add(a, b);
            }
            case SUB: {
                r = fr_sub(a, b);
            }
            default: {
                r = fr_mul(a, b);
            }
        }
        registers[program[4u * pc + 1u]] = r;
    }
    var w = pack(fr_mul(operand(params.result, i), load_constant(params.vanishing)));
    let at = params.part + params.extension * i;
    for (var k = 0u; k < 8u; k++) {
        h[8u * at + k] = w[k];
    }
}
