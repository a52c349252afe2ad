// Checks on the IR printed at each stage (what `recc emit-mlir --stage` shows):
// source locations survive lowering, elementwise code and GEMMs are vectorized
// with 16 x f32 vectors (one AVX-512 register), the LLVM IR exports the
// `void <symbol>(float**)` wrapper, and errors name the offending node.
#include "JitCompare.h"
#include "TestModels.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <sstream>

using namespace recc;
using namespace recc::mlirtest;

namespace {

constexpr int64_t B = kBatchDim;

/// The IR of `stage`, tiled for AVX-512 (16 lanes) unless `lanes` says 8, so
/// the checks below do not depend on the host.
std::string emit(const Graph& g, const std::string& stage, int64_t batch = 8, int lanes = 16) {
  std::ostringstream os;
  CodegenOptions o;
  o.lanes = lanes;
  emitMlir(g, batch, stage, os, o);
  return os.str();
}

/// Widths N of every `vector<Nxf32>` in the text (of `op` results only, when
/// given: e.g. "vector.fma").
std::set<int> f32VectorWidths(const std::string& ir, const std::string& op = "") {
  std::set<int> widths;
  std::regex re(op.empty() ? std::string("vector<([0-9]+)xf32>")
                           : op + " [^\\n]*: vector<([0-9]+)xf32>");
  for (auto it = std::sregex_iterator(ir.begin(), ir.end(), re); it != std::sregex_iterator(); ++it)
    widths.insert(std::stoi((*it)[1]));
  return widths;
}

}  // namespace

TEST(MlirIr, LinalgStageKeepsSourceLocations) {
  std::string ir = emit(opGraph(OpKind::MatMul, {{B, 8}, {8, 4}}, {}, false), "linalg");
  EXPECT_NE(ir.find("loc(\"op.rec\":2:3)"), std::string::npos) << ir;
  EXPECT_NE(ir.find("linalg.matmul"), std::string::npos) << ir;
  EXPECT_NE(ir.find("func.func @step_body(%arg0: memref<8x8xf32>"), std::string::npos) << ir;
}

TEST(MlirIr, ElementwiseVectorsAre16Lanes) {
  std::string ir = emit(opGraph(OpKind::Sigmoid, {{B, 64}}, {}, false), "vectorized");
  EXPECT_EQ(f32VectorWidths(ir), std::set<int>{16}) << ir;
}

TEST(MlirIr, GemmFmasAre16Lanes) {
  std::string ir = emit(opGraph(OpKind::MatMul, {{B, 64}, {64, 64}}, {}, false), "vectorized", 40);
  // The 10 x 32 register tile is two zmm per row: every FMA is one row of it,
  // 32 lanes, which LLVM splits into two zmm FMAs that share the row's A
  // broadcast. (A is read 8 k-steps at a time and broadcast element by element.)
  EXPECT_EQ(f32VectorWidths(ir, "vector.fma"), std::set<int>{32}) << ir;
}

// K = 296 = 8 x 37 has no multiple of 8 between 8 and 256 that divides it:
// instead of 37 k blocks of 8 (the accumulators loaded and stored every 8
// FMAs), the GEMM runs as two pieces of 152 and 144, each one k block whose
// B slivers are packed whole.
TEST(MlirIr, LongKIsCutIntoEvenBlocks) {
  std::string ir =
      emit(opGraph(OpKind::MatMul, {{B, 296}, {296, 64}}, {}, false), "vectorized", 80);
  EXPECT_NE(ir.find("memref<152x32xf32>"), std::string::npos) << ir;
  EXPECT_NE(ir.find("memref<144x32xf32>"), std::string::npos) << ir;
  EXPECT_EQ(ir.find("memref<8x32xf32>"), std::string::npos) << ir;
}

// On AVX2 (16 ymm registers) the kernels are tiled for 8 lanes: elementwise
// maps are one ymm wide and every GEMM FMA is one row of a 4 x 16 register
// tile, two ymm (eight accumulators, which fit beside the operands).
TEST(MlirIr, Avx2KernelsAre8Lanes) {
  std::string map = emit(opGraph(OpKind::Sigmoid, {{B, 64}}, {}, false), "vectorized", 8, 8);
  EXPECT_EQ(f32VectorWidths(map), std::set<int>{8}) << map;
  std::string gemm =
      emit(opGraph(OpKind::MatMul, {{B, 64}, {64, 64}}, {}, false), "vectorized", 48, 8);
  EXPECT_EQ(f32VectorWidths(gemm, "vector.fma"), std::set<int>{16}) << gemm;
}

// The gradient of a broadcast product, x [B,8,32] * y [B,1,32], with respect
// to y sums dy * x over the 8 middle rows. Tiled by 1 along them, that sum
// is a contraction of unit extent that upstream's lowering unrolled lane by
// lane into scalar code (vector<1xf32>); it is one 16-lane multiply and add.
TEST(MlirIr, ProductSummedOverRowsIsVectorized) {
  Graph g = opGraph(OpKind::Mul, {{B, 8, 32}, {B, 1, 32}}, {}, true);
  std::string ir = emit(g, "vectorized");
  EXPECT_EQ(ir.find("vector<1xf32>"), std::string::npos) << ir;
  EXPECT_EQ(f32VectorWidths(ir, "arith.mulf"), std::set<int>{16}) << ir;
}

// The weight gradient of [B,L,k] x [k,n] (batch_matmul summed over the batch)
// is one GEMM on the flattened B·L rows; the batched [B,k,n] product is gone.
TEST(MlirIr, SharedWeightGradientIsOneGemm) {
  Graph g = opGraph(OpKind::BatchMatMul, {{B, 6, 16}, {16, 24}}, {}, true);
  std::string ir = emit(g, "bufferized");
  EXPECT_NE(ir.find("linalg.matmul_transpose_a ins(%"), std::string::npos) << ir;
  EXPECT_NE(ir.find("memref<48x16xf32>"), std::string::npos) << ir;  // A' = [B·L, k]
  EXPECT_EQ(ir.find("memref<8x16x24xf32>"), std::string::npos) << ir;
}

TEST(MlirIr, LlvmIrHasWrapperAnd512BitVectors) {
  std::string ir = emit(opGraph(OpKind::Tanh, {{B, 64}}, {}, false), "llvmir");
  EXPECT_NE(ir.find("define void @step(ptr"), std::string::npos) << ir;
  EXPECT_NE(ir.find("<16 x float>"), std::string::npos) << ir;
}

TEST(MlirIr, EveryStagePrints) {
  Graph g = opGraph(OpKind::Softplus, {{B, 5}}, {}, true);
  for (const std::string& stage : mlirStages()) EXPECT_FALSE(emit(g, stage).empty()) << stage;
  EXPECT_THROW(emit(g, "assembly"), CodegenError);
}

TEST(MlirIr, UnboundParamIsReportedAtItsLocation) {
  Graph g;
  NodeId w = g.add(OpKind::Param, {}, {{"shape", std::vector<int64_t>{3}}}, {"m.rec", 4, 9}, "w");
  g.node(w).shape = Shape{3};
  g.addOutput(w, ValueRole::Output, "w");
  try {
    emit(g, "linalg");
    FAIL() << "expected CodegenError";
  } catch (const CodegenError& e) {
    EXPECT_NE(std::string(e.what()).find("m.rec:4:9"), std::string::npos) << e.what();
  }
}

// A second input stream's batch (B1) is bound on its own: the step's buffers
// take each stream's size; a size missing for a stream the graph uses is an
// error at the node that uses it.
TEST(MlirIr, SecondStreamBatchIsBoundOnItsOwn) {
  Graph g;
  NodeId x = g.add(OpKind::Input, {}, {{"shape", std::vector<int64_t>{streamBatchDim(1), 3}}},
                   {"two.rec", 2, 5}, "target_x");
  g.node(x).shape = Shape{streamBatchDim(1), 3};
  g.addInput(x, ValueRole::Feature, "target_x");
  NodeId y = g.add(OpKind::Relu, {x}, {}, {"two.rec", 3, 7});
  g.node(y).shape = g.node(x).shape;
  g.addOutput(y, ValueRole::Output, "y");
  std::ostringstream os;
  emitMlir(g, rt::BatchSizes({4, 5}), "linalg", os);
  EXPECT_NE(os.str().find("memref<5x3xf32>"), std::string::npos) << os.str();
  EXPECT_EQ(os.str().find("memref<4x3xf32>"), std::string::npos) << os.str();
  try {
    std::ostringstream none;
    emitMlir(g, rt::BatchSizes(std::vector<int64_t>{4}), "linalg", none);
    FAIL() << "expected CodegenError";
  } catch (const CodegenError& e) {
    EXPECT_NE(std::string(e.what()).find("two.rec:2:5"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("no batch size for input stream 1 (B1)"),
              std::string::npos) << e.what();
  }
}

TEST(MlirIr, IdenticalKernelsAreSharedAndZeroFillsFused) {
  // ESMM's two towers run the same GEMMs and elementwise ops on the same
  // shapes: recc-outline-kernels compiles each once and calls it twice, and
  // each matmul's zero fill moves into the matmul's cache tiles (no
  // stand-alone fill of a GEMM output, no copy of a shared zero buffer).
  std::ostringstream os;
  emitMlir(esmmLikeGraph(true, 96, 256), 200, "vectorized", os);
  std::string ir = os.str();
  auto count = [&](const std::string& re) {
    std::regex r(re);
    return std::distance(std::sregex_iterator(ir.begin(), ir.end(), r), std::sregex_iterator());
  };
  long defs = count("func\\.func private @__recc_k[0-9]+_matmul\\(");
  long calls = count("call @__recc_k[0-9]+_matmul\\(");
  EXPECT_GT(defs, 0) << ir;
  EXPECT_GT(calls, defs) << ir;
  // No buffer is filled by a fill kernel and then accumulated into by a GEMM.
  // Views of one arena offset are one SSA value (CSE) but may be different
  // buffers at different times, so the kernels are followed in order: each
  // call's last operand is what it writes.
  std::set<std::string> filled;
  std::regex call("call @__recc_k[0-9]+_([a-z_]+)\\([^)]*, (%[a-z0-9_]+)\\)");
  for (auto it = std::sregex_iterator(ir.begin(), ir.end(), call); it != std::sregex_iterator();
       ++it) {
    std::string kind = (*it)[1], out = (*it)[2];
    if (kind.rfind("matmul", 0) == 0) EXPECT_EQ(filled.count(out), 0u) << (*it)[0] << "\n" << ir;
    if (kind == "fill") filled.insert(out);
    else filled.erase(out);
  }
  EXPECT_EQ(count("memref\\.copy"), 0) << ir;
}
