# cmake -DIN=page.html -DOUT=page.c -DNAME=symbol -P embed.cmake
# Writes OUT, a C file that defines NAME (the bytes of IN, then a NUL) and NAME_len.
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" digits)
math(EXPR len "${digits} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
file(WRITE "${OUT}"
  "/* Generated from ${IN} by node/explorer/embed.cmake. */\n"
  "#include <stddef.h>\n"
  "const char ${NAME}[] = {${bytes}0};\n"
  "const size_t ${NAME}_len = ${len};\n")
