# Diffusion samplers (diffusion_sampler_internal: torch-typed) and the public Generator of
# generative views (generator.h). Included by core/infer/CMakeLists.txt before the library exists.
list(APPEND SYNTHLENS_INFER_SRCS diffusion_sampler_internal.cc generator.cc)
if(BUILD_TESTING)
  # These tests build TorchScript modules and tensors themselves, so they link LibTorch directly
  # (synthlens_infer links it PRIVATE) and register here rather than via SYNTHLENS_INFER_TESTS.
  synthlens_add_test(NAME infer/diffusion_sampler_test SRCS diffusion_sampler_test.cc
                     LINK synthlens_infer ${TORCH_LIBRARIES})
  synthlens_add_test(NAME infer/generator_test SRCS generator_test.cc
                     LINK synthlens_infer ${TORCH_LIBRARIES} nlohmann_json::nlohmann_json)
  # CUDA == CPU and fp16/bf16 runs, over the CUDA devices present (skips without one).
  synthlens_add_test(NAME infer/generator_gpu_test SRCS generator_gpu_test.cc
                     LINK synthlens_infer ${TORCH_LIBRARIES} nlohmann_json::nlohmann_json
                     LABELS gpu)
endif()
