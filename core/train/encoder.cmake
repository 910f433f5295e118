# SimCLR encoder training and the linear probe (included by core/train/CMakeLists.txt).
list(APPEND SYNTHLENS_TRAIN_SRCS simclr_model.cc simclr_trainer.cc linear_probe.cc)
list(APPEND SYNTHLENS_TRAIN_TESTS simclr_test linear_probe_test)
# model.json is written with nlohmann-json (header-only, linked once synthlens_train exists).
cmake_language(DEFER CALL target_link_libraries synthlens_train PRIVATE nlohmann_json::nlohmann_json)
if(BUILD_TESTING)
  cmake_language(DEFER CALL target_link_libraries train_simclr_test PRIVATE
    nlohmann_json::nlohmann_json)
endif()
