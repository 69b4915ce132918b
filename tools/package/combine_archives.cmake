# Joins static archives into one (the installed libbatching.a):
#   cmake -DOUTPUT=libbatching.a -DARCHIVES="a.a|b.a" -DAR=ar -P combine_archives.cmake
string(REPLACE "|" ";" ARCHIVES "${ARCHIVES}")
file(REMOVE "${OUTPUT}")
set(script "CREATE ${OUTPUT}\n")
foreach(a IN LISTS ARCHIVES)
  string(APPEND script "ADDLIB ${a}\n")
endforeach()
string(APPEND script "SAVE\nEND\n")
file(WRITE "${OUTPUT}.mri" "${script}")
execute_process(COMMAND "${AR}" -M INPUT_FILE "${OUTPUT}.mri"
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "ar -M failed (${rc}) joining ${ARCHIVES}")
endif()
