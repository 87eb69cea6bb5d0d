# `cmake --install` layout and the package config, so that find_package(anvil CONFIG) works.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS anvil EXPORT anvilTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/anvil)
foreach(dir tensor autograd nn engine dist)
  install(DIRECTORY ${dir}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/anvil/${dir}
          FILES_MATCHING PATTERN "*.h" PATTERN "*.inc")
endforeach()
install(FILES anvil.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/anvil)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/generated/tensor/config.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/anvil/tensor)
install(EXPORT anvilTargets NAMESPACE anvil::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/anvil)
configure_package_config_file(cmake/anvilConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/anvilConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/anvil)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/anvilConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/anvilConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/anvilConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/anvil)
