// RUN: recc emit-mlir columns.rec --stage vectorized --lanes 16 | FileCheck columns.vectorized.mlir
// Written by hand (update.sh does not touch it). Three of the four column
// GEMMs read strided views of one buffer: they call one kernel, each with its
// view's base buffer and offset, and the kernel rebuilds the view.
// CHECK: call @[[KERNEL:__recc_k[0-9]+_matmul]](%{{[a-z_0-9]+}}, %c0, %{{.*}} : (memref<f32>, index,
// CHECK: call @[[KERNEL]](%{{[a-z_0-9]+}}, %c32, %{{.*}} : (memref<f32>, index,
// CHECK: call @[[KERNEL]](%{{[a-z_0-9]+}}, %c64, %{{.*}} : (memref<f32>, index,
// CHECK: func.func private @[[KERNEL]](%arg0: memref<f32>, %arg1: index,
// CHECK: memref.reinterpret_cast %arg0 to offset: [%arg1], sizes: [64, 32], strides: [128, 1]
