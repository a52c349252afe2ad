// Tiling: what recc-tile-vectorize's two halves share — the generic tiling
// (TileAndVectorize.cpp) and the GEMM recipe (TileMatmul.cpp). Internal to
// compiler/mlir.
#pragma once

#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/IR/PatternMatch.h"

#include <initializer_list>
#include <utility>

namespace recc::passes::tiling {

/// f32 lanes of one vector register of the target: 16 (zmm, AVX-512) or 8
/// (ymm, AVX2); set per thread by the passes (TileAndVectorize.cpp).
extern thread_local int64_t vectorLanes;

/// Loop attributes for recc.zero_init matmuls (TileMatmul.cpp, tileMatmulPiece):
/// the k-block loop whose first iteration starts the accumulators from zero,
/// or a register loop all of whose accumulators start from zero;
/// recc-lower-vectors consumes them.
inline constexpr llvm::StringLiteral kZeroFirstK = "recc.zero_first_k";
inline constexpr llvm::StringLiteral kZeroAlways = "recc.zero_always";
/// How many loops of a function were tagged (checked when they are consumed).
inline constexpr llvm::StringLiteral kZeroInitLoops = "recc.zero_init_loops";

/// The first of `prefs` dividing n, or 0.
int64_t firstDivisor(int64_t n, std::initializer_list<int64_t> prefs);

/// Tiles `op` level by level (a level of all zeros is skipped; a size equal to
/// the extent is dropped) and vectorizes the innermost tile. Returns false if
/// tiling failed (the op is then left for convert-linalg-to-loops).
bool tileAndVectorize(mlir::IRRewriter& rw, mlir::Operation* op,
                      llvm::ArrayRef<llvm::SmallVector<int64_t>> levels);

/// Splits `op` along loop `dim` at `point`; returns both parts.
std::pair<mlir::Operation*, mlir::Operation*> split(mlir::IRRewriter& rw, mlir::Operation* op,
                                                    unsigned dim, int64_t point);

/// `q`-multiple nearest to x/2 (at least q).
int64_t halfRounded(int64_t x, int64_t q);

/// Runs the two parts of a split op on two threads (scf.forall of two).
void runInParallel(mlir::IRRewriter& rw, mlir::Operation* a, mlir::Operation* b);

/// Where `op`'s loop `dim` is exactly two `half`s: one scf.forall over the two
/// halves around a single op on a half; returns that op, or null (op
/// untouched) where the halves differ or tiling fails.
mlir::Operation* splitEvenly(mlir::IRRewriter& rw, mlir::Operation* op, unsigned dim,
                             int64_t half);

/// Elementwise ops, reductions, fills, copies and transposes (TileAndVectorize.cpp).
void tileGeneric(mlir::IRRewriter& rw, mlir::Operation* op, int threads = 1);

/// matmul and matmul_transpose_a (TileMatmul.cpp).
void tileMatmul(mlir::IRRewriter& rw, mlir::linalg::LinalgOp op, int threads);

}  // namespace recc::passes::tiling
