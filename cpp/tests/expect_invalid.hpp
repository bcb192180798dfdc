#pragma once
// Shared test check: a call must throw std::invalid_argument whose message
// starts with the parameter's name and a colon, as the engine promises.

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

template <typename F>
void expect_invalid(F&& f, const std::string& name) {
  try {
    f();
    ADD_FAILURE() << "expected std::invalid_argument naming " << name;
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).rfind(name + ":", 0), 0u) << e.what();
  }
}
