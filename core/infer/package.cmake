# Model packages (model.json + TorchScript), encoders and their torch helpers. Included by
# CMakeLists.txt before synthlens_infer exists, so links to that target are deferred.
list(APPEND SYNTHLENS_INFER_SRCS model_package.cc encoder.cc torch_util_internal.cc)
# Bare package names fall back to the source tree's resources/models (dev builds, tests).
set_source_files_properties(model_package.cc PROPERTIES
  COMPILE_DEFINITIONS "SYNTHLENS_SOURCE_DIR=\"${PROJECT_SOURCE_DIR}\"")
cmake_language(DEFER CALL target_link_libraries synthlens_infer PRIVATE
  nlohmann_json::nlohmann_json opencv_imgproc)

list(APPEND SYNTHLENS_INFER_TESTS model_package_test encoder_test bundled_models_test)
if(BUILD_TESTING)
  # encoder_test builds TorchScript packages itself, so it links LibTorch directly.
  cmake_language(DEFER CALL target_link_libraries infer_encoder_test PRIVATE ${TORCH_LIBRARIES}
    opencv_imgcodecs)
  synthlens_add_test(NAME infer/encoder_gpu_test SRCS encoder_gpu_test.cc
    LINK synthlens_infer ${TORCH_LIBRARIES} LABELS gpu)
  # Runs scripts/export/*.py with /usr/bin/python3 (skips without torch there) and checks the
  # packages they write with ReadModelPackage, Encoder::Open and `synthlens embed`.
  synthlens_add_test(NAME infer/export_scripts_test SRCS export_scripts_test.cc
    LINK synthlens_infer ${TORCH_LIBRARIES} opencv_imgcodecs LABELS python)
  target_compile_definitions(infer_export_scripts_test PRIVATE
    "SYNTHLENS_SOURCE_DIR=\"${PROJECT_SOURCE_DIR}\"")
  if(SYNTHLENS_BUILD_APP)
    add_dependencies(infer_export_scripts_test synthlens)
  endif()
endif()
