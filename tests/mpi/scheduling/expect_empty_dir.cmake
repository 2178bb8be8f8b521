file(GLOB leftovers ${DIR}/*)
if(leftovers)
  message(FATAL_ERROR "spill files left behind after the job: ${leftovers}")
endif()
