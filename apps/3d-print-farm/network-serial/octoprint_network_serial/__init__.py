"""Network serial ports for OctoPrint.

A Cloudron app sees no USB or serial devices, so a printer reaches OctoPrint
through a serial-to-network bridge instead: ser2net on a small computer next
to the printer, or a printer board's own Wi-Fi serial bridge (ESP3D and
similar). pyserial, which OctoPrint uses, opens such bridges by URL:
socket://HOST:PORT (raw TCP) and rfc2217://HOST:PORT (telnet with serial
port control). OctoPrint itself only opens local device paths.

This plugin lists the URLs the admin enters under Settings > Serial
Connection > "Additional serial ports" as connectable ports, and opens them
with serial.serial_for_url, in the way OctoPrint opens a local port.
"""

import logging

import serial

__plugin_name__ = "Network Serial Ports"
__plugin_description__ = (
    "Connects to printers on network serial bridges: add socket://host:port or "
    "rfc2217://host:port under Settings > Serial Connection > Additional serial ports."
)
__plugin_license__ = "AGPLv3"
__plugin_pythoncompat__ = ">=3.7,<4"

SCHEMES = ("socket://", "rfc2217://")

_logger = logging.getLogger("octoprint.plugins.network_serial")


def is_network_port(port):
    return isinstance(port, str) and port.strip().lower().startswith(SCHEMES)


def network_ports():
    from octoprint.settings import settings

    configured = settings().get(["serial", "additionalPorts"]) or []
    return [p.strip() for p in configured if is_network_port(p)]


def additional_port_names(candidates, *args, **kwargs):
    return [p for p in network_ports() if p not in candidates]


def serial_factory(comm_instance, port, baudrate, read_timeout, *args, **kwargs):
    if not is_network_port(port):
        return None  # a local port: OctoPrint's own factory opens it

    from octoprint.util.comm import BufferedReadlineWrapper

    _logger.info(f"Connecting to network serial port {port}")
    # baudrate matters to rfc2217 bridges, which pass it on to the printer;
    # write_timeout=0 writes without blocking, as OctoPrint opens local ports.
    serial_obj = serial.serial_for_url(
        port.strip(), baudrate=baudrate, timeout=read_timeout, write_timeout=0
    )
    return BufferedReadlineWrapper(serial_obj)


__plugin_hooks__ = {
    "octoprint.comm.transport.serial.additional_port_names": additional_port_names,
    "octoprint.comm.transport.serial.factory": serial_factory,
}
