"""GB/T 28181 device codes (国标编码): the 20 digits every video device of the network carries.

Digits 1-8 are the centre code (1-6 the administrative division, 行政区划代码, e.g.
640104; 7-8 a grassroots unit), 9-10 the industry, 11-13 the device type, 14 the
network and 15-20 a serial number. Types 111-130 are front-end main devices
(recorders, encoders, matrices), 131-199 front-end peripherals (cameras, alarm
inputs and outputs), 200-299 platform devices, 300-499 users, 500-599 external
platform servers. Of these netwatch monitors cameras (131 camera, 132 network
camera); every other type names no netwatch kind.
"""

from __future__ import annotations

from dataclasses import dataclass

TYPE_NAMES: dict[int, str] = {
    111: "DVR", 112: "视频服务器", 113: "编码器", 114: "解码器", 115: "视频切换矩阵",
    116: "音频切换矩阵", 117: "报警控制器", 118: "网络视频录像机 NVR", 130: "混合硬盘录像机 HVR",
    131: "摄像机", 132: "网络摄像机 IPC", 133: "显示器", 134: "报警输入设备", 135: "报警输出设备",
    136: "语音输入设备", 137: "语音输出设备", 138: "移动传输设备", 139: "其他外围设备",
    200: "中心信令控制服务器", 201: "Web应用服务器", 202: "媒体分发服务器", 203: "代理服务器",
    204: "安全服务器", 205: "报警服务器", 206: "数据库服务器", 207: "GIS服务器", 208: "管理服务器",
    209: "接入网关", 210: "媒体存储服务器", 211: "信令安全路由网关", 215: "业务分组",
    216: "虚拟组织", 300: "中心用户", 400: "终端用户",
    500: "视频图像信息综合应用平台信令服务器", 501: "视频图像信息运维管理平台信令服务器",
}
KIND_OF_TYPE: dict[int, str] = {131: "camera", 132: "camera"}
_RANGES = (
    (119, 130, "扩展的前端主设备"), (140, 199, "扩展的前端外围设备"), (212, 299, "扩展的平台设备"),
    (301, 399, "中心用户"), (401, 499, "终端用户"), (502, 599, "扩展的平台外接服务器"),
    (600, 999, "扩展类型"),
)


@dataclass(frozen=True, slots=True)
class GbCode:
    """A well-formed 20-digit code, taken apart."""

    code: str

    @property
    def division(self) -> str:
        """Digits 1-6: the administrative division (行政区划代码)."""
        return self.code[:6]

    @property
    def type_code(self) -> int:
        """Digits 11-13: the device type."""
        return int(self.code[10:13])

    @property
    def type_name(self) -> str:
        """The standard's name of the type, or that it is no type of the standard."""
        number = self.type_code
        if number in TYPE_NAMES:
            return TYPE_NAMES[number]
        for low, high, name in _RANGES:
            if low <= number <= high:
                return name
        return "no GB/T 28181 type"

    @property
    def kind(self) -> str | None:
        """The netwatch kind of the type, or None when netwatch monitors no such device."""
        return KIND_OF_TYPE.get(self.type_code)


def parse(text: str) -> GbCode | None:
    """The code if ``text`` is 20 ASCII digits, else None (not a GB/T 28181 code)."""
    if len(text) == 20 and text.isascii() and text.isdigit():
        return GbCode(text)
    return None
