// The image command-file parser (ImageCommand.h).
#include "sashimono/host/ImageCommand.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sashimono::host {
namespace {

using Args = std::vector<std::string>;

TEST(ImageCommand, OneArgumentPerLineEmptyLinesSkipped) {
  EXPECT_EQ(*parseImageCommand("/bin/httpd\n-f\n"), (Args{"/bin/httpd", "-f"}));
  EXPECT_EQ(*parseImageCommand("/bin/httpd\n-f"), (Args{"/bin/httpd", "-f"})) << "no final newline";
  EXPECT_EQ(*parseImageCommand("\n\n/usr/bin/sashimono\n\nruntime\n\n"),
            (Args{"/usr/bin/sashimono", "runtime"}));
  EXPECT_EQ(*parseImageCommand("a b\n--x=1 2\n"), (Args{"a b", "--x=1 2"}))
      << "a line is one argument, spaces and all";
  Args many(64, "x");
  std::string text;
  for (auto& a : many) text += a + "\n";
  EXPECT_EQ(*parseImageCommand(text), many);
}

TEST(ImageCommand, NoArgumentAtAllIsAnError) {
  for (const char* text : {"", "\n", "\n\n\n"}) {
    auto r = parseImageCommand(text);
    ASSERT_FALSE(r.ok()) << '"' << text << '"';
    EXPECT_EQ(r.error().message, "no command: the file holds no argument");
  }
}

TEST(ImageCommand, AnInvalidArgumentNamesItsLine) {
  auto crlf = parseImageCommand("/bin/httpd\r\n-f\r\n");
  ASSERT_FALSE(crlf.ok());
  EXPECT_EQ(crlf.error().message, "line 1: invalid argument '/bin/httpd?': must be printable ASCII");
  auto nul = parseImageCommand(std::string("/bin/x\n\nab\0c\n", 13));
  ASSERT_FALSE(nul.ok());
  EXPECT_EQ(nul.error().message, "line 3: invalid argument 'ab?c': must be printable ASCII");
  auto tab = parseImageCommand("/bin/x\t-f\n");
  ASSERT_FALSE(tab.ok());
  EXPECT_NE(tab.error().message.find("line 1: "), std::string::npos) << tab.error().message;
  auto longArg = parseImageCommand(std::string(4097, 'a'));
  ASSERT_FALSE(longArg.ok());
  EXPECT_NE(longArg.error().message.find("must be 1 to 4096 characters"), std::string::npos)
      << longArg.error().message;
}

TEST(ImageCommand, MoreThan64ArgumentsIsAnError) {
  std::string text;
  for (int i = 0; i < 65; ++i) text += "x\n";
  auto r = parseImageCommand(text);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "more than 64 arguments (line 65)");
}

}  // namespace
}  // namespace sashimono::host
