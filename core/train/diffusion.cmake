# Conditional pixel-space diffusion training (`synthlens train-diffusion`).
list(APPEND SYNTHLENS_TRAIN_SRCS diffusion_unet.cc diffusion_trainer.cc)
list(APPEND SYNTHLENS_TRAIN_TESTS diffusion_unet_test diffusion_trainer_test)

# Quality check of a trained package (docs/models.md): probe accuracy of class samples and the
# img2img class-preservation curve. A developer tool, not installed.
if(SYNTHLENS_BUILD_APP)
  add_executable(synthlens_diffusion_eval diffusion_eval_tool.cc)
  target_link_libraries(synthlens_diffusion_eval PRIVATE synthlens_train synthlens_infer
                        CLI11::CLI11 nlohmann_json::nlohmann_json opencv_imgcodecs opencv_imgproc)
endif()
