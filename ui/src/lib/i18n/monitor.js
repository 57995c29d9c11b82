// Strings of the machine monitor panel.
export default {
  en: {
    'monitor.noGpu': 'No NVIDIA GPU or driver found. Training needs one; everything else works.',
    'monitor.temp': 'Temperature',
    'monitor.fan': 'Fan',
    'monitor.util': 'Utilisation',
    'monitor.vram': 'VRAM',
    'monitor.vramPct': 'VRAM %',
    'monitor.memClock': 'Memory clock',
    'monitor.power': 'Power',
    'monitor.cpu': 'CPU',
    'monitor.cores': 'cores',
    'monitor.ram': 'RAM',
  },
  'zh-CN': {
    'monitor.noGpu': '未找到 NVIDIA 显卡或驱动。训练需要显卡，其他功能不受影响。',
    'monitor.temp': '温度',
    'monitor.fan': '风扇',
    'monitor.util': '利用率',
    'monitor.vram': '显存',
    'monitor.vramPct': '显存 %',
    'monitor.memClock': '显存频率',
    'monitor.power': '功耗',
    'monitor.cpu': 'CPU',
    'monitor.cores': '核',
    'monitor.ram': '内存',
  },
};
