# Sources of the interconnect models (compiled into moesim_core so registrations link in).
# Each file is listed once; a file not written yet is skipped.
set(MOESIM_INTERCONNECT_SOURCES "")
foreach(f topology.cpp topology_builders.cpp network.cpp fast_network.cpp detailed_network.cpp
          collective.cpp collective_executor.cpp comm_unit.cpp)
  if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/${f})
    list(APPEND MOESIM_INTERCONNECT_SOURCES ${CMAKE_CURRENT_LIST_DIR}/${f})
  endif()
endforeach()
