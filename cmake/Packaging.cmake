# The Debian package of the appliance (docs/design/appliance.md).
#
#   cpack -G DEB --config <build>/CPackConfig.cmake   ->  custodian_<version>_<arch>.deb
#
# It holds /usr/bin/custodian, the systemd units, the default site file (a conffile), the
# web UI's static files when the tree has them, and the guides. The maintainer scripts in
# image/debian/ make the `custodian` system user and run the records migration.

set(CUSTODIAN_IMAGE_DIR ${CMAKE_SOURCE_DIR}/image)

install(FILES
  ${CUSTODIAN_IMAGE_DIR}/systemd/custodian-record.service
  ${CUSTODIAN_IMAGE_DIR}/systemd/custodian-retain.service
  ${CUSTODIAN_IMAGE_DIR}/systemd/custodian-serve.service
  DESTINATION /lib/systemd/system)
install(FILES ${CUSTODIAN_IMAGE_DIR}/site.yaml DESTINATION /etc/custodian
  PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)

# The web UI: a built bundle (web/dist) if there is one, else the static files (web/static);
# the site file's http.web_root defaults to where they go.
foreach(web_dir dist static)
  if(IS_DIRECTORY ${CMAKE_SOURCE_DIR}/web/${web_dir})
    install(DIRECTORY ${CMAKE_SOURCE_DIR}/web/${web_dir}/ DESTINATION share/custodian/web)
    break()
  endif()
endforeach()

install(DIRECTORY ${CMAKE_SOURCE_DIR}/docs/guide ${CMAKE_SOURCE_DIR}/docs/ref
  DESTINATION share/doc/custodian)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/camera-configs
  DESTINATION share/doc/custodian)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME custodian)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "Custodian")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "CCTV recording and retention appliance with confidentiality records")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "Custodian maintainers <custodian@localhost>")
set(CPACK_DEBIAN_PACKAGE_SECTION video)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
  "Records IP cameras to local disk, deletes footage when its retention ends unless\n it is held, and keeps the access log, footage requests, holds, exports and\n deletions in one records database. Runs as three systemd services.")
# Library dependencies come from dpkg-shlibdeps; the rest are named here.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# procps gives the units' ExecReload its /bin/kill.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, procps, systemd")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "systemd-timesyncd | time-daemon, p7zip-full")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${CUSTODIAN_IMAGE_DIR}/debian/postinst
  ${CUSTODIAN_IMAGE_DIR}/debian/prerm
  ${CUSTODIAN_IMAGE_DIR}/debian/postrm
  ${CUSTODIAN_IMAGE_DIR}/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_OUTPUT_FILE_PREFIX ${CMAKE_BINARY_DIR}/packages)
include(CPack)
